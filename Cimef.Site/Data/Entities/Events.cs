namespace Cimef.Site.Data.Entities;

/// <summary>Server-side patient session; the cookie carries the raw id, the table only its SHA-256.</summary>
public class PatientSession
{
    public int Id { get; set; }
    public string TokenHash { get; set; } = "";
    public int PatientAccessId { get; set; }
    public PatientAccess PatientAccess { get; set; } = null!;
    public DateTime CreatedAt { get; set; }
    public DateTime LastSeenAt { get; set; }
    /// <summary>Absolute cap (12 h after creation).</summary>
    public DateTime ExpiresAt { get; set; }
    public DateTime? EndedAt { get; set; }
    public string? EndReason { get; set; }
    public string? ClientIp { get; set; }
    /// <summary>
    /// SHA-256 of the phone's device id (the remembered-keys cookie) when the login came from a phone that
    /// has one: « Oublier ce téléphone » ends every session opened from it.
    /// </summary>
    public string? DeviceHash { get; set; }
}

/// <summary>One failed (or in-flight) patient login attempt, for throttling per key and per IP.</summary>
public class LoginFailure
{
    public long Id { get; set; }
    /// <summary>
    /// Keyed hash of the normalised submitted key (known or not) plus its last 4 characters, never the key itself
    /// (<see cref="Portal.LoginThrottle.StoredKey"/>).
    /// </summary>
    public string Key { get; set; } = "";
    /// <summary>Client address, IPv6 reduced to its network prefix (<see cref="Web.ClientIp.Bucket"/>).</summary>
    public string ClientIp { get; set; } = "";
    public DateTime At { get; set; }
    /// <summary>The access the key belongs to, when known (staff see its lock state); null for device-cookie attempts.</summary>
    public int? PatientAccessId { get; set; }
}

public static class AccessEventKinds
{
    public const string LoginSuccess = "login_success";
    public const string LoginFailure = "login_failure";
    public const string LoginDisabled = "login_disabled";
    public const string LoginThrottled = "login_throttled";
    public const string Logout = "logout";
    public const string ReportList = "report_list";
    public const string Download = "download";
    /// <summary>A Range continuation (206 not starting at byte 0): bytes delivered, not counted as a download.</summary>
    public const string DownloadPart = "download_part";
    public const string DownloadDenied = "download_denied";
    public const string DownloadGone = "download_gone";
    public const string FileMissing = "file_missing";
    /// <summary>A doctor opened a shared report's link with the right code; ReportId set, Detail = share id.</summary>
    public const string ShareOpen = "share_open";
    /// <summary>A wrong code typed on a share link; Detail = share id.</summary>
    public const string ShareCodeFailure = "share_code_failure";
    /// <summary>A shared report downloaded through its share; Detail = share id.</summary>
    public const string ShareDownload = "share_download";
    /// <summary>« Oublier ce téléphone »: one per session it ended (PatientAccessId set), or one without access when none was open.</summary>
    public const string PhoneForgotten = "phone_forgotten";
    /// <summary>A study's images opened (first page), by the patient or through a share; Detail = study id (and share id).</summary>
    public const string ImagesView = "images_view";
    /// <summary>A study's whole DICOM archive (ZIP) delivered from byte 0; Detail = study id (and share id).</summary>
    public const string ImagesDownload = "images_download";
}

/// <summary>Patient-side event (append-only). Never a password; at most the key's last 4 characters.</summary>
public class AccessEvent
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public string Kind { get; set; } = "";
    public int? PatientAccessId { get; set; }
    public int? ReportId { get; set; }
    public string? KeySuffix { get; set; }
    public string? ClientIp { get; set; }
    public string? UserAgent { get; set; }
    public string? Detail { get; set; }
}

/// <summary>Staff action (append-only).</summary>
public class AuditEntry
{
    public long Id { get; set; }
    public DateTime At { get; set; }
    public string? UserId { get; set; }
    public string UserName { get; set; } = "";
    public string Action { get; set; } = "";
    public string EntityType { get; set; } = "";
    public string? EntityId { get; set; }
    public string? Detail { get; set; }
    /// <summary>
    /// On an access.reveal row: how the credentials left the clinic. The patient's history reads it (the detail is
    /// free text for staff, never parsed).
    /// </summary>
    public CredentialHandoverKind? Handover { get; set; }
}

/// <summary>
/// PaymentLink: a Wave payment link by SMS; ShareLink / ShareCode: a staff-created report share sent to the referring
/// doctor, in two messages; StaffLockout: the e-mail a staff member gets when failed sign-ins lock their account (no
/// patient); RecoveryCode: the 6-digit code a patient asked for to renew a lost password; RecoveryNotice: the word on
/// the other channel that the password was renewed from a phone.
/// </summary>
/// <summary>How a patient's credentials were handed over: printed on an invoice, shown on the staff access page, or through the API.</summary>
public enum CredentialHandoverKind { Printed, Shown, Handed }

public enum OutboxKind { Credentials, ReportAvailable, PaymentLink, ShareLink, ShareCode, StaffLockout, RecoveryCode, RecoveryNotice }
public enum OutboxChannel { Email, Sms }
public enum OutboxStatus { Pending, Sent, Failed }

/// <summary>A notification to send; the body is rendered at send time (never stored).</summary>
public class OutboxMessage
{
    public int Id { get; set; }
    public OutboxKind Kind { get; set; }
    public OutboxChannel Channel { get; set; }
    /// <summary>The patient the message is about; none for a message to staff (<see cref="OutboxKind.StaffLockout"/>).</summary>
    public int? PatientId { get; set; }
    public Patient? Patient { get; set; }
    public int? PatientAccessId { get; set; }
    public PatientAccess? PatientAccess { get; set; }
    public int? ReportId { get; set; }
    public PatientReport? Report { get; set; }
    /// <summary>The payment link a <see cref="OutboxKind.PaymentLink"/> SMS carries.</summary>
    public int? PaymentCheckoutId { get; set; }
    public PaymentCheckout? PaymentCheckout { get; set; }
    /// <summary>The report share whose link or code this message carries (ShareLink / ShareCode only).</summary>
    public int? ReportShareId { get; set; }
    public ReportShare? ReportShare { get; set; }
    /// <summary>The recovery code this message carries (RecoveryCode only).</summary>
    public long? RecoveryCodeId { get; set; }
    public RecoveryCode? RecoveryCode { get; set; }
    public string Recipient { get; set; } = "";
    public OutboxStatus Status { get; set; } = OutboxStatus.Pending;
    public int Attempts { get; set; }
    public DateTime CreatedAt { get; set; }
    public DateTime NextAttemptAt { get; set; }
    public DateTime? SentAt { get; set; }
    public string? LastError { get; set; }
    /// <summary>The node (<c>Cluster:NodeName</c>) that claimed the message last; kept after sending (who sent it).</summary>
    public string? ClaimedBy { get; set; }
    /// <summary>Until when the claim holds: past it (the node died mid-send), another node claims the message again.</summary>
    public DateTime? LeaseUntil { get; set; }
}

/// <summary>Bearer token for integrations; only its SHA-256 is stored.</summary>
public class ApiToken
{
    public int Id { get; set; }
    public string UserId { get; set; } = "";
    public StaffUser User { get; set; } = null!;
    public string Name { get; set; } = "";
    public string TokenHash { get; set; } = "";
    public DateTime CreatedAt { get; set; }
    public DateTime? LastUsedAt { get; set; }
    /// <summary>After this the token is refused (401); set at creation (--days, default 365).</summary>
    public DateTime ExpiresAt { get; set; }
    public DateTime? RevokedAt { get; set; }
}

public enum AlertLevel { Info, Warning, Critical }

/// <summary>Alert kinds, stored in <see cref="Alert.Kind"/> and named in French by <c>Auditing.Labels.AlertKind</c>.</summary>
public static class AlertKinds
{
    public const string LoginFailures = "login_failures";
    public const string IpManyKeys = "ip_many_keys";
    public const string DownloadBurst = "download_burst";
    /// <summary>A report file missing or altered, found by the integrity check or by a patient's download.</summary>
    public const string ReportFile = "report_file";
    public const string Notifications = "notifications";
    public const string SlowResponses = "slow_responses";
    public const string CredentialReveals = "credential_reveals";
    /// <summary>One account reading more FHIR records in an hour than Alerts:FhirRecordsPerHour.</summary>
    public const string FhirBulkRead = "fhir_bulk_read";
    /// <summary>A mobile-money payment reported by the provider and not recorded (wrong amount, cancelled or paid invoice, unknown session).</summary>
    public const string OnlinePayment = "online_payment";
    /// <summary>More passwords renewed by patients from their phones in an hour than Alerts:RecoveriesPerHour.</summary>
    public const string RecoveryBurst = "recovery_burst";
    /// <summary>The PACS (Orthanc) did not answer: patients see no images until it does.</summary>
    public const string PacsUnreachable = "pacs_unreachable";
}

/// <summary>A security or operations alert shown to admins; acknowledged by a person (audited).</summary>
public class Alert
{
    public int Id { get; set; }
    public DateTime At { get; set; }
    public AlertLevel Level { get; set; }
    public string Kind { get; set; } = "";
    /// <summary>What it is about, e.g. "clé …K7QZ" or "rapport 42".</summary>
    public string Subject { get; set; } = "";
    public string Detail { get; set; } = "";
    /// <summary>Same kind + subject raises one open alert, not one per event.</summary>
    public string DedupKey { get; set; } = "";
    public DateTime? AcknowledgedAt { get; set; }
    public string? AcknowledgedBy { get; set; }
}

/// <summary>
/// Where a background job that runs once per cluster stands: when it last ran, on which node, and its cursor (for the
/// alert monitor, the last alert announced). In the database so another node continues where a dead one stopped.
/// </summary>
public class JobState
{
    public string Name { get; set; } = "";
    public DateTime? LastRunAt { get; set; }
    public string? RunBy { get; set; }
    public long? Cursor { get; set; }
}

/// <summary>
/// A closed clinic day's count of the AccessEvents the statistics read (logins and downloads), per access and report
/// (0 = none): the statistics page sums these for past days and scans raw events only for the open day(s).
/// Written once per day by <see cref="Auditing.AccessEventRollups"/>, never updated by later writes.
/// </summary>
public class AccessEventDay
{
    public DateOnly Day { get; set; }
    public string Kind { get; set; } = "";
    public int PatientAccessId { get; set; }
    public int ReportId { get; set; }
    public int Count { get; set; }
}

/// <summary>A clinic day whose <see cref="AccessEventDay"/> rows are complete, and the UTC range they were counted over.</summary>
public class StatisticsDay
{
    public DateOnly Day { get; set; }
    public DateTime StartUtc { get; set; }
    public DateTime EndUtc { get; set; }
    public DateTime RolledAt { get; set; }
}
