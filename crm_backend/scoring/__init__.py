"""Customer scores: RFM, CLV, value segment, lifecycle stage, satisfaction and churn risk."""
