"""Training platform: courses with courseware, question banks, timed exams with randomised
questions, scoring, certificates with a verification code, required courses per role."""
