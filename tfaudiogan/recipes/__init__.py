"""tfaudiogan.recipes: one recipe per model family for the training driver.

A recipe (training/recipe.py) supplies only what differs between families: the data, the
compiled model, its own callbacks, evaluation, saving and export. ``training.driver.run``
does the rest. The experiment modules pair a recipe with its config family.
"""
