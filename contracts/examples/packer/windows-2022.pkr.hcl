# Example Packer template (stub) that takes its settings from a filled WindowsImageContract.
#
#   packer init contracts/examples/packer
#   packer build -var contract_path=contracts/examples/windows-server-2022.contract.yaml \
#                -var image_version=2026.11.0 contracts/examples/packer
#
# The contract is the single source of truth: family, base image, gallery targets, Defender/LAPS/Credential Guard
# settings and update source are read with yamldecode(); nothing here repeats a value the contract holds.
# Validate the contract first (python -m apps.images.contracts <file>): Packer does not check its shape.
# Stub: the PowerShell scripts under scripts/ are site-specific and not part of this example.

packer {
  required_version = ">= 1.10.0"
  required_plugins {
    azure = {
      source  = "github.com/hashicorp/azure"
      version = ">= 2.1.0"
    }
    windows-update = {
      source  = "github.com/rgl/windows-update"
      version = ">= 0.16.0"
    }
  }
}

variable "contract_path" {
  type        = string
  description = "Path of the filled WindowsImageContract YAML file."
}

variable "image_version" {
  type        = string
  description = "Version being built (semver or calver X.Y.Z, per identity.version_scheme)."
  validation {
    condition     = can(regex("^[0-9]+\\.[0-9]+\\.[0-9]+$", var.image_version))
    error_message = "The image_version must look like 1.4.2 or 2026.11.0."
  }
}

variable "build_resource_group" {
  type        = string
  description = "Existing resource group the temporary build VM runs in."
  default     = "rg-packer-builds"
}

locals {
  contract    = yamldecode(file(var.contract_path))
  identity    = local.contract.identity
  gallery     = local.contract.targets.azure[0]
  defender    = local.contract.defender
  laps        = local.contract.laps
  cred_guard  = local.contract.credential_guard
  base_urn    = split(":", local.contract.base.image)
  update_mode = local.contract.updates.provider
  family      = local.identity.family
  build_tags = {
    "qlrf:family"        = local.family
    "qlrf:version"       = var.image_version
    "qlrf:contract-kind" = local.contract.kind
    "qlrf:cis-benchmark" = local.contract.hardening.cis.benchmark_version
    "qlrf:cis-level"     = tostring(local.contract.hardening.cis.level)
  }
}

source "azure-arm" "windows" {
  use_azure_cli_auth        = true
  subscription_id           = local.gallery.subscription_id
  build_resource_group_name = var.build_resource_group
  os_type                   = "Windows"
  image_publisher           = local.base_urn[0]
  image_offer               = local.base_urn[1]
  image_sku                 = local.base_urn[2]
  vm_size                   = "Standard_D4s_v5"
  secure_boot_enabled       = local.cred_guard.vbs.enabled
  vtpm_enabled              = local.cred_guard.vbs.enabled
  security_type             = "TrustedLaunch"
  communicator              = "winrm"
  winrm_use_ssl             = true
  winrm_insecure            = true
  winrm_timeout             = "30m"
  winrm_username            = "packer"
  azure_tags                = local.build_tags

  shared_image_gallery_destination {
    subscription        = local.gallery.subscription_id
    resource_group      = local.gallery.resource_group
    gallery_name        = local.gallery.gallery
    image_name          = local.gallery.image_definition
    image_version       = var.image_version
    replication_regions = local.gallery.regions
  }
}

build {
  name    = "windows-golden"
  sources = ["source.azure-arm.windows"]

  # Windows features the contract requires / forbids.
  provisioner "powershell" {
    inline = concat(
      [for f in local.contract.features.required : "Install-WindowsFeature -Name '${f}'"],
      [for f in local.contract.features.forbidden : "Uninstall-WindowsFeature -Name '${f}' -Remove"],
    )
  }

  # Microsoft Defender: real-time protection, cloud block level, signature interval and ASR rules.
  provisioner "powershell" {
    environment_vars = [
      "QLRF_DEFENDER_RTP=${local.defender.real_time_protection}",
      "QLRF_DEFENDER_CLOUD_LEVEL=${local.defender.cloud_protection_level}",
      "QLRF_DEFENDER_SIG_HOURS=${local.defender.signature_update_interval_hours}",
      "QLRF_ASR_IDS=${join(",", [for r in local.defender.asr_rules : r.id])}",
      "QLRF_ASR_MODES=${join(",", [for r in local.defender.asr_rules : r.mode])}",
    ]
    script = "${path.root}/scripts/defender.ps1"
  }

  # Windows LAPS and Credential Guard / VBS policy.
  provisioner "powershell" {
    environment_vars = [
      "QLRF_LAPS_DIRECTORY=${local.laps.backup_directory}",
      "QLRF_LAPS_AGE_DAYS=${local.laps.password_age_days}",
      "QLRF_LAPS_COMPLEXITY=${local.laps.password_complexity}",
      "QLRF_LAPS_LENGTH=${local.laps.password_length}",
      "QLRF_CG_ENABLED=${local.cred_guard.enabled}",
      "QLRF_CG_UEFI_LOCK=${local.cred_guard.uefi_lock}",
      "QLRF_VBS_PLATFORM=${local.cred_guard.vbs.platform_security}",
    ]
    script = "${path.root}/scripts/security-baseline.ps1"
  }

  # Patch to the current level before capture; the patch SLA is measured from this build.
  provisioner "windows-update" {
    search_criteria = "IsInstalled=0"
    filters         = ["exclude:$_.Title -like '*Preview*'", "include:$true"]
  }

  provisioner "windows-restart" {}

  # Point the image at its update source (WSUS or Azure Update Manager) after patching.
  provisioner "powershell" {
    environment_vars = [
      "QLRF_UPDATE_PROVIDER=${local.update_mode}",
      "QLRF_WSUS_SERVER=${try(local.contract.updates.wsus.server, "")}",
      "QLRF_WSUS_GROUP=${try(local.contract.updates.wsus.target_group, "")}",
    ]
    script = "${path.root}/scripts/update-source.ps1"
  }

  provisioner "powershell" {
    inline = ["& $env:SystemRoot\\System32\\Sysprep\\Sysprep.exe /oobe /generalize /quiet /quit /mode:vm"]
  }

  # The manifest is what CI registers with the portal (rf image register) next to the contract file.
  post-processor "manifest" {
    output     = "packer-manifest.json"
    strip_path = true
    custom_data = {
      family        = local.family
      version       = var.image_version
      contract_path = var.contract_path
    }
  }
}
