"""One composite ``beam.PTransform`` per stage of the Swallow pipeline, over pure rule functions.

The contract every stage follows is in :mod:`transforms.stage`.
"""
