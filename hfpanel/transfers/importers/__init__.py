"""Importers: transfer records from where they already are (MONIT's archive) into the raw tables."""
