"""What stages run on. Knows ``build/`` but not doit.

    layout     every path under build/
    stage      the stage protocol and the one list of stage names
    runner     run one stage on one shard: memo map, execute, publish
    executors  where the memo map's units run: this process, worker processes, Ray
    storage    content-addressed objects, memo journals, atomic writes
    outputs    typed readers of a finished build (items, samples, knowledge, checkpoints)
    versions   the build version id, the log and tags
    catalog    the DuckDB catalog (results, versions, training logs)
    lock       the project lock
    fastpath   the no-op build answered from a stat signature
    integrity  checks of build/ against hashes and shapes; proda verify
    damage     damaged state moved aside to build/damaged/, and said in one line
"""
