"""Pure figure builders: frames (or lists of dicts) in, plotly Figures out. No SQL, no files."""
