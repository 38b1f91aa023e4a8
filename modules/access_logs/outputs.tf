output "bucket" {
  description = "Name of the access log bucket, for the load balancer's access_logs block."
  value       = aws_s3_bucket.this.id

  # The load balancer checks that it may write to the bucket when access logging is switched on.
  depends_on = [aws_s3_bucket_policy.this]
}

output "bucket_arn" {
  description = "ARN of the access log bucket."
  value       = aws_s3_bucket.this.arn
}
