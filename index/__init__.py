"""Build-time side of papersearch: parses digests and writes index artifacts.

Nothing under ``search/`` imports from here; the query side only reads what this writes.
"""
