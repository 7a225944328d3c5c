"""Vectorised formulas: numpy arrays over a population slice in, integer fen arrays out.

The batch runs and the single-person calculators call the same functions (the calculators with
arrays of length one), so a figure on a citizen's screen and in the monthly run agree.
"""
