"""Mobility: relation transfers between regions and schemes, the living-certification cycle,
policy comparison and reform scenarios (issue #15). See ARCHITECTURE.md, "Mobility"."""
