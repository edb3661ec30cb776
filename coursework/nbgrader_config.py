# nbgrader configuration of the book's course. `make assignments` copies this file into
# the course directory it writes (_build/assignments/); copy it into your own course
# directory to grade there. Reference: https://nbgrader.readthedocs.io/en/stable/configuration/
c = get_config()  # noqa: F821 (nbgrader provides it)

# Used by the exchange (release, fetch, submit, collect); change it to your course's name.
c.CourseDirectory.course_id = "vanishing-gradients"

# The student copy: each ### BEGIN SOLUTION ... ### END SOLUTION region becomes this stub.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"
# A solution region outside a cell marked as a solution cell is an error, not a leak.
c.ClearSolutions.enforce_metadata = True

# Autograding executes a submission top to bottom; a chapter runs in about 20 s, so a
# cell that needs more than two minutes has hung (the website's build uses the same limit).
c.Execute.timeout = 120
