"""The one case model of every bureau: a service item of the catalogue (经办服务事项) opened
for a subject, worked through statuses with its statutory time limit, decided (four eyes where
the item says so), announced through the notice outbox, rated (好差评) and reopened on appeal.

Bureaus keep their own detail tables keyed by ``case_id`` and call ``cases.service`` inside
their own transactions.
"""
