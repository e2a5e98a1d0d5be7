"""The retraining service: runs each model's retraining policy (mlsql.monitoring.policy).

observe  reads the policy's quality and drift tables (bounded) into what the condition judges
service  one pass per model: judge, train a candidate, gate it, promote or refuse, and record
         each step (mlsql.monitoring.events); `mlsql retrain SCRIPT` runs passes in a loop
"""
