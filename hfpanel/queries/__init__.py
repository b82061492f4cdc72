"""Questions to the store, in SQL, apart from any rendering.

The app's components, the notebooks, the command line and the API ask the same questions through
these functions, so one answer holds everywhere. Nothing here imports Panel.
"""
