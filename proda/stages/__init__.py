"""The pipeline, one adapter per stage, in order (``proda.engine.stage.ORDER``):

    ingest   specs/corpus files -> Documents (and Dropped: why a file was left out)
    chunk    Documents -> Chunks (paragraph-aware, with character spans)
    extract  Chunks -> L3 Chains, L2 Statements, L1 Concepts
    bench    Chains -> benchmark Items (dev / holdout)
    synth    knowledge + patches -> training Samples (orthogonal to the benchmark)
    compile  Samples -> a checkpoint (tiny model or LoRA)
    test     Items x checkpoint -> Results, accuracy per split and discipline

Each adapter says what it reads and which settings define it, then calls the logic of its own
folder (``proda.corpus``, ``proda.extract``, ``proda.bench``, ``proda.synth``, ``proda.train``,
``proda.score``). The protocol is ``proda.engine.stage.Stage``.
"""
