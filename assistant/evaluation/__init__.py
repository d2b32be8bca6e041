"""Evaluation: metrics, the harness behind ``has-assistant eval``, its report and baseline."""
