"""The grading core: rubric models and loader, encoders, scoring and calibration.

Imports no UI, no database and no CLI code, so it runs anywhere a Python process does.
"""
