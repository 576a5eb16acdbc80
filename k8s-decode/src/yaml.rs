//! kubectl-identical YAML rendering. (In progress.)
