//! WFDB annotation (in progress).
