"""The procedures the engine runs, one Django app each (order_review, complaints, capa,
documents). Each registers itself in its AppConfig.ready(); see docs/adding-a-procedure.md."""
