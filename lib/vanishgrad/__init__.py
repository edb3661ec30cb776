"""vanishgrad: the numpy library behind the book *Vanishing and Exploding Gradients*.

One module per idea:

- :mod:`vanishgrad.activations`  f and f' for sigmoid, tanh, relu, identity
- :mod:`vanishgrad.mlp`          a deep feedforward net, forward and backward layer by layer
- :mod:`vanishgrad.rnn`          a vanilla recurrent net and backpropagation through time
- :mod:`vanishgrad.losses`       losses on a sequence model's outputs, with ∂L/∂o
- :mod:`vanishgrad.jacobian`     step Jacobians, their products, spectral bounds, Lyapunov exponents
- :mod:`vanishgrad.residual`     residual blocks y = x + α f(Wx + b), their Jacobians, gradients by path length
- :mod:`vanishgrad.lstm`         the LSTM (PyTorch's gate order i, f, g, o), forward and backward through time
- :mod:`vanishgrad.gru`          the GRU (PyTorch's form, reset after the product; the paper's form too)
- :mod:`vanishgrad.orthogonal`   orthogonal recurrent weights through the exponential and Cayley maps
- :mod:`vanishgrad.lru`          the linear recurrent unit: a diagonal recurrence inside the unit disk
- :mod:`vanishgrad.tasks`        the adding problem (two forms), the copy task, the spirals
- :mod:`vanishgrad.clip`         gradient clipping: global norm, per tensor, by value
- :mod:`vanishgrad.optim`        SGD with momentum and Adam, with explicit state
- :mod:`vanishgrad.train`        the training loop every chapter shares, with its record of each step
- :mod:`vanishgrad.gradcheck`    central differences and relative errors
- :mod:`vanishgrad.validation`   the argument checks every function uses
- :mod:`vanishgrad.glue`         numbers from a notebook into its prose
- :mod:`vanishgrad.plotting`     the house style of every figure
- :mod:`vanishgrad.companion`    a parameter sweep as a scrubbable animation for the static site

The chapters import the modules they need, e.g. ``from vanishgrad import activations``.

dtype, the same in every module: the library computes in float32 or float64.
``dtype=None`` (the default, and the rule where a function has no ``dtype`` argument)
means the inputs' own dtype: float32 in gives float32 out, integer in gives float64, and
inputs of both float dtypes meet in float64. An explicit ``dtype`` must be float32 or
float64. Complex, object and string input raises ``ValueError`` (except where complex
numbers make sense: ``jacobian.spectral_radius`` and ``jacobian.sigma_max``). The details are in
:mod:`vanishgrad.validation`, which also says how bad input is reported.
"""

__version__ = "0.1.0"
