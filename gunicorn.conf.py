# Read by gunicorn from the working directory (the Dockerfile's and scripts/run.sh's commands run here).
# Access and error lines go through config.access_log, which redacts the QuickBooks callback's code and
# state and every credential-shaped value (issue 12).
logger_class = "config.access_log.RedactingLogger"
