"""Interfaces: the command line, the Gradio chat, rendering, the LangChain adapter."""
