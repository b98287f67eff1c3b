"""Question -> Answer(text, citations): retrieval use, prompts, LLM, extractive composer, citation checks.
Never imports discord."""
