"""vanishgrad: the numpy library behind the book *Vanishing and Exploding Gradients*.

One module per idea:

- :mod:`vanishgrad.activations`  f and f' for sigmoid, tanh, relu, identity
- :mod:`vanishgrad.gradcheck`    central differences and relative errors
- :mod:`vanishgrad.validation`   the shape and finiteness checks every function uses
- :mod:`vanishgrad.glue`         numbers from a notebook into its prose
- :mod:`vanishgrad.plotting`     the house style of every figure
- :mod:`vanishgrad.companion`    a parameter sweep as a scrubbable animation for the static site

The chapters import the modules they need, e.g. ``from vanishgrad import activations``.
"""

__version__ = "0.1.0"
