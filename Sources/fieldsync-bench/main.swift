// fieldsync-bench: the benchmark suite (issue 8). It measures FieldSync against raw SQLite and raw
// PostgreSQL in the same run; until the sync client and server exist there is nothing to compare.
print("fieldsync-bench: no benchmarks yet; they arrive with issue 8.")
