"""The verdict-first look-up: one value in, one answer out, from what the caller may see.

- `answer`: what an answer holds (reasons, related objects, lists) and how a text is read
  as a value;
- `graph`: what lies one hop from the matched objects (relationships, reports, sightings,
  correlations), read once per look-up;
- `evidence`: what each matched object says, and one answer filled in and scored from it;
- `service`: the look-up of a viewer's values and the node's look-up service, which builds
  it (with the node's benign lists) for the API, its bulk helper and the command line.
"""
