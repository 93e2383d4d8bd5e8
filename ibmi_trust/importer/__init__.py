"""The import stage: turn analysis results into a safe plan and apply it.

    plan.build_plan(variant reports, approved roots)  -> ImportPlan (or refusals)
    apply.apply_plan(store, plan, reprobe)            -> ChangeReport, proven or rolled back
"""
