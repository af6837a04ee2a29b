"""Performance figures for Annotator, on PostgreSQL behind gunicorn: `python -m bench`.

It creates its own database (BENCH_DATABASE_URL, default
postgres://postgres@127.0.0.1:5432/annotator_bench), builds data with the app's services,
starts gunicorn on a free loopback port, measures span saves and reads from client processes
on the same machine, prints the figures beside the targets, and drops the database and stops
gunicorn however it ends. It prints figures; it never fails on timing.
"""
