"""One module per verb: a short click command over the library function it calls.

    init     proda init                       a new project (empty or the example)
    build    proda build, proda status        run the graph; what is stale and why
    stats    proda stats                      counts per discipline
    log      proda log, proda tag             versions and their names
    show     proda show                       trace a record to its source text
    diff     proda diff                       compare two versions
    report   proda report                     accuracy per version, the HTML report
    test     proda test                       score the benchmark (--failed, --split)
    debug    proda debug                      diagnose failures, write a patch
    export   proda export                     data, benchmark and checkpoint for other tools
    verify   proda verify                     check build/ against its hashes (--repair)
    demo     proda demo                       the whole loop on the example project

Commands do not import each other; shared options live in ``options``. ``proda.cli`` registers
``ALL`` on the ``proda`` group.
"""

from __future__ import annotations

from . import build, debug, demo, diff, export, init, log, report, show, stats, test, verify

ALL = [init.init, build.build, build.status, stats.stats, log.log, log.tag, test.test, debug.debug,
       diff.diff, show.show, report.report, export.export, verify.verify, demo.demo]
