"""Load tests: the real bot (SimCord) over the real AnswerService and a small real store."""
