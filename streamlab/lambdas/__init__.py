"""AWS Lambda handlers of the serverless lab, and the zip streamlab builds for them (`package`).

Handlers import only the standard library, boto3 (present in every Lambda Python runtime) and the
dependency-free parts of streamlab (`random_walk`, `records`), so the zip stays a few kilobytes.
"""
