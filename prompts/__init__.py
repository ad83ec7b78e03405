"""The prompt files, installed as the package ``assistant.prompt_files`` (see pyproject.toml) and read
with ``importlib.resources`` by ``assistant.stages.prompts``."""
