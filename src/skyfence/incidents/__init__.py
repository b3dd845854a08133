"""Incidents: records, lifecycle, store, evidence dossiers and reports."""
