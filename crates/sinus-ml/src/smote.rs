//! SMOTE oversampling (Chawla et al. 2002).
