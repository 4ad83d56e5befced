//! Kaggle 187-sample beat format (in progress).
