"""Answer: extractive and LLM answers, their verification, refusals, the patient-data guard."""
