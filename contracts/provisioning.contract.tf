# Provisioning contract — the Terraform interface every "golden image lookup" module implements.
#
# A consuming module (one per platform or one for all) copies this file unchanged as `contract.tf` and defines,
# in its own files, three locals that resolve the golden image for the inputs below:
#
#   local.image_ref        platform image id: AMI id, Azure gallery image version id, GCP image selfLink,
#                          or vSphere content library item / template path
#   local.image_version    the ImageVersion the channel points to (e.g. "1.4.2" or "2026.11.0")
#   local.signature_status "verified" | "unverified" | "failed" | "not_required", as recorded by the portal
#
# Callers then depend only on the variables and outputs declared here, whatever the platform. Plain HCL: no
# provider or resource is declared in this file.

variable "image_family" {
  type        = string
  description = "Golden image family slug (identity.family of the image contract)."

  validation {
    condition     = can(regex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$", var.image_family))
    error_message = "The image_family must be 1-63 lowercase letters, digits or dashes, not starting or ending with a dash."
  }
}

variable "channel" {
  type        = string
  description = "Release channel of the family to follow (the portal's Channel for the family and environment)."
  default     = "stable"

  validation {
    condition     = contains(["stable", "candidate", "canary"], var.channel)
    error_message = "The channel must be one of: stable, candidate, canary."
  }
}

variable "environment" {
  type        = string
  description = "Environment tier the machines run in; it selects the channel assignment and signature policy."

  validation {
    condition     = contains(["dev", "staging", "prod"], var.environment)
    error_message = "The environment must be one of: dev, staging, prod."
  }
}

variable "platform" {
  type        = string
  description = "Platform the image is consumed on."

  validation {
    condition     = contains(["aws", "azure", "gcp", "vsphere"], var.platform)
    error_message = "The platform must be one of: aws, azure, gcp, vsphere."
  }
}

variable "location" {
  type        = string
  description = "AWS region, Azure region, GCP region/multi-region, or vSphere datacenter name."

  validation {
    condition     = can(regex("^[A-Za-z0-9][A-Za-z0-9._-]{0,79}$", var.location))
    error_message = "The location must be 1-80 characters: letters, digits, dots, dashes or underscores."
  }
}

output "image_ref" {
  description = "Platform image id to launch machines from."
  value       = local.image_ref

  precondition {
    condition     = length(local.image_ref) > 0
    error_message = "No golden image is published for this family, channel and location."
  }
  precondition {
    condition     = var.environment != "prod" || contains(["verified", "not_required"], local.signature_status)
    error_message = "Production machines may only use a golden image whose signature is verified."
  }
}

output "image_version" {
  description = "Golden image version the channel points to."
  value       = local.image_version
}

output "signature_status" {
  description = "Signature verification status of the image version: verified, unverified, failed or not_required."
  value       = local.signature_status

  precondition {
    condition     = contains(["verified", "unverified", "failed", "not_required"], local.signature_status)
    error_message = "The signature_status must be one of: verified, unverified, failed, not_required."
  }
}
