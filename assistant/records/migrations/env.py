"""Alembic's environment for the records database: run on the connection the application
hands over (``assistant.records.database.upgrade``), never from a config file."""

from alembic import context

connection = context.config.attributes["connection"]
context.configure(connection=connection, render_as_batch=connection.dialect.name == "sqlite")
with context.begin_transaction():
    context.run_migrations()
