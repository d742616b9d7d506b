"""The Turbo-Sim model: stochastic networks, critics, the eight loss terms, training and checkpoints."""
