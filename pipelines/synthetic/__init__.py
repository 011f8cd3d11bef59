"""A synthetic training program: reference data, learners with latent competency trajectories,
and the landing files (CDC mission progress, assessment attempts, xAPI telemetry) they produce.
See docs/generator.md for the generative model."""
