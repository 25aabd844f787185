"""Rounds (申报批次) and declarations (需求申报), one per person per round."""
