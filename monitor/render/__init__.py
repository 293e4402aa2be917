"""Rendering: data in, text out. report.py writes the dated reports; digest.py the weekly one."""
