using System.ComponentModel.DataAnnotations;

namespace Cimef.Site;

// Typed configuration, bound from appsettings.json / environment (e.g. Portal__MaxLoginAttempts)
// and validated at start (ValidateDataAnnotations + ValidateOnStart).

public sealed class StorageOptions : IValidatableObject
{
    public const string Section = "Storage";
    [Required] public string DataDirectory { get; set; } = "data/";
    /// <summary>Where report files live: the data directory (default) or an S3-compatible object store.</summary>
    public ReportStorageOptions Reports { get; set; } = new();

    /// <summary>Absolute data directory, resolved against the content root at start.</summary>
    public string Root { get; set; } = "";
    public string DatabasePath => Path.Combine(Root, "cimef.db");
    public string ReportsDirectory => Path.Combine(Root, "reports");
    public string KeysDirectory => Path.Combine(Root, "keys");
    public string BackupsDirectory => Path.Combine(Root, "backups");
    public string MailPickupDirectory => Path.Combine(Root, "mail-pickup");
    public string SmsPickupDirectory => Path.Combine(Root, "sms-pickup");

    public IEnumerable<ValidationResult> Validate(ValidationContext context) => Reports.Validate();
}

/// <summary>
/// <c>Storage:Reports:Provider</c> = <c>FileSystem</c> (data/reports) | <c>S3</c> (several web nodes share one bucket).
/// </summary>
public sealed class ReportStorageOptions
{
    public const string FileSystem = "FileSystem";
    public const string S3Provider = "S3";

    public string Provider { get; set; } = FileSystem;
    /// <summary>
    /// A temporary upload (file or unfinished multipart upload) is removed at start only when it is older than this
    /// (or, on the file system, when this node started it): another node may be writing it right now.
    /// </summary>
    public int TempMaxAgeMinutes { get; set; } = 60;
    public S3StorageOptions S3 { get; set; } = new();

    public bool IsS3 => string.Equals(Provider, S3Provider, StringComparison.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate()
    {
        if (!IsS3 && !string.Equals(Provider, FileSystem, StringComparison.OrdinalIgnoreCase))
            yield return new ValidationResult($"Storage:Reports:Provider « {Provider} » inconnu : choisissez FileSystem (par défaut) ou S3.");
        if (TempMaxAgeMinutes is < 5 or > 10080)
            yield return new ValidationResult("Storage:Reports:TempMaxAgeMinutes doit être compris entre 5 et 10080 minutes.");
        if (!IsS3) yield break;
        if (string.IsNullOrWhiteSpace(S3.Bucket))
            yield return new ValidationResult("Storage:Reports:Provider=S3 demande Storage:Reports:S3:Bucket (le compartiment des rapports).");
        if (string.IsNullOrWhiteSpace(S3.AccessKey) || string.IsNullOrWhiteSpace(S3.SecretKey))
            yield return new ValidationResult("Storage:Reports:Provider=S3 demande Storage:Reports:S3:AccessKey et Storage:Reports:S3:SecretKey (identifiants du stockage objet).");
        if (string.IsNullOrWhiteSpace(S3.ServiceUrl) && string.IsNullOrWhiteSpace(S3.Region))
            yield return new ValidationResult("Storage:Reports:Provider=S3 demande Storage:Reports:S3:ServiceUrl (serveur compatible S3) ou Storage:Reports:S3:Region (AWS).");
        if (!string.IsNullOrWhiteSpace(S3.ServiceUrl) && !Uri.TryCreate(S3.ServiceUrl, UriKind.Absolute, out _))
            yield return new ValidationResult($"Storage:Reports:S3:ServiceUrl « {S3.ServiceUrl} » n'est pas une adresse valide (par exemple http://127.0.0.1:9000).");
        if (S3.PartSizeMegabytes is < 5 or > 512)
            yield return new ValidationResult("Storage:Reports:S3:PartSizeMegabytes doit être compris entre 5 et 512 (minimum imposé par S3 : 5 Mo).");
    }
}

public sealed class S3StorageOptions
{
    /// <summary>Endpoint of an S3-compatible server (MinIO, Garage, s3rver); empty for AWS, which then needs Region.</summary>
    public string? ServiceUrl { get; set; }
    public string? Bucket { get; set; }
    public string? Region { get; set; }
    public string? AccessKey { get; set; }
    public string? SecretKey { get; set; }
    /// <summary>Path-style URLs (http://host/bucket/key): true for self-hosted S3-compatible servers.</summary>
    public bool ForcePathStyle { get; set; }
    /// <summary>Uploads larger than one part go up as a multipart upload of parts this size (memory held per upload).</summary>
    public int PartSizeMegabytes { get; set; } = 8;
}

/// <summary>
/// The database engine: SQLite (embedded default, one file in the data directory) or PostgreSQL (several web nodes,
/// failover, replicas). <c>Database:Provider</c> = <c>Sqlite</c> | <c>Postgres</c>; PostgreSQL needs
/// <c>Database:ConnectionString</c> (Npgsql syntax).
/// </summary>
public sealed class DatabaseOptions : IValidatableObject
{
    public const string Section = "Database";
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    public string Provider { get; set; } = Sqlite;
    public string? ConnectionString { get; set; }
    /// <summary>PostgreSQL: a statement running longer than this is cancelled (and answered as a 503 « réessayez »).</summary>
    [Range(1, 3600)] public int StatementTimeoutSeconds { get; set; } = 30;
    /// <summary>PostgreSQL: how long a starting node waits for another node's start-up (its migrations) before giving up.</summary>
    [Range(1, 86400)] public int StartupLockWaitSeconds { get; set; } = 900;

    public bool IsPostgres => string.Equals(Provider, Postgres, StringComparison.OrdinalIgnoreCase)
        || string.Equals(Provider, "PostgreSQL", StringComparison.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        if (!IsPostgres && !string.Equals(Provider, Sqlite, StringComparison.OrdinalIgnoreCase))
            yield return new ValidationResult(
                $"Database:Provider « {Provider} » inconnu : choisissez Sqlite (par défaut) ou Postgres.", [nameof(Provider)]);
        else if (IsPostgres && string.IsNullOrWhiteSpace(ConnectionString))
            yield return new ValidationResult(
                "Database:Provider=Postgres demande Database:ConnectionString (par exemple « Host=localhost;Database=cimef;Username=cimef;Password=… »).",
                [nameof(ConnectionString)]);
    }
}

/// <summary>
/// This node among several sharing one database: <c>Cluster:NodeName</c> names it in outbox claims, job runs and portal timings
/// (default: machine name and process id, unique on one machine); <c>Cluster:JobCheckSeconds</c> is how often the
/// once-per-cluster jobs (retention, integrity check, alert monitor) check leadership and whether they are due.
/// </summary>
public sealed class ClusterOptions
{
    public const string Section = "Cluster";
    [Required, MaxLength(100)] public string NodeName { get; set; } = $"{Environment.MachineName}-{Environment.ProcessId}";
    [Range(1, 3600)] public int JobCheckSeconds { get; set; } = 60;
}

public sealed class PortalOptions
{
    public const string Section = "Portal";
    [Required, Url] public string Url { get; set; } = "http://localhost:5000/patient";
    [Range(1, 1440)] public int SessionTimeoutMinutes { get; set; } = 30;
    [Range(1, 72)] public int SessionAbsoluteHours { get; set; } = 12;
    [Range(1, 100)] public int MaxLoginAttempts { get; set; } = 5;
    [Range(1, 86400)] public int LoginAttemptDelaySeconds { get; set; } = 300;
    /// <summary>Failed logins from one client IP (any keys) inside the same window before it is refused too.</summary>
    [Range(1, 100000)] public int MaxLoginFailuresPerIp { get; set; } = 20;
    /// <summary>Login requests per minute per IP before the rate limiter answers 429.</summary>
    [Range(1, 100000)] public int LoginRequestsPerMinutePerIp { get; set; } = 60;
    /// <summary>Patient reads served at once (<see cref="Web.RateLimits.IsPatientRequest"/>); 0 = four per core.</summary>
    [Range(0, 10000)] public int PatientRequestsAtOnce { get; set; }
    /// <summary>Patient reads that may wait for one of those; beyond, 429.</summary>
    [Range(0, 100000)] public int PatientRequestsWaiting { get; set; } = 5000;
    /// <summary>Lifetime of the signed device cookie a successful login sets (OWASP device cookies), patient or staff.</summary>
    [Range(1, 3650)] public int DeviceCookieDays { get; set; } = 365;
    /// <summary>How long a recovery code sent by SMS or e-mail (and the choice it opens) stays usable.</summary>
    [Range(1, 1440)] public int RecoveryCodeMinutes { get; set; } = 10;
    /// <summary>Recovery codes asked for one phone number or e-mail address within 24 h before 429.</summary>
    [Range(1, 100)] public int RecoveryCodesPerDay { get; set; } = 3;
}

public sealed class AccessOptions : IValidatableObject
{
    public const string Section = "Access";
    /// <summary>Staff roles allowed to hand over patient credentials (reveal, invoice PDF with the password, API).</summary>
    public string[] CredentialRoles { get; set; } = ["Admin", "Secretary", "Accountant"];

    /// <summary>
    /// The credential HMAC secret (base64, at least 32 bytes), the same on every node. When absent it is kept with
    /// the key ring: a file beside it (FileSystem key store) or a Data Protection-encrypted row (Database key store).
    /// </summary>
    public string? CredentialSecret { get; set; }

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        if (CredentialSecret is null) yield break;
        var bytes = new byte[CredentialSecret.Length];
        if (!Convert.TryFromBase64String(CredentialSecret.Trim(), bytes, out var n) || n < 32)
            yield return new ValidationResult(
                "Access:CredentialSecret doit être une valeur base64 d'au moins 32 octets (par exemple « openssl rand -base64 32 »).",
                [nameof(CredentialSecret)]);
    }
}

/// <summary>
/// Where the Data Protection key ring lives (<c>DataProtection:KeyStore</c> = <c>FileSystem</c> | <c>Database</c>) and
/// the certificate (PFX) that encrypts its keys at rest. Default: Database on PostgreSQL (several nodes share it),
/// FileSystem on SQLite — there the keys stay out of the database file, so a leaked copy of cimef.db alone reveals no
/// password (DESIGN §5).
/// </summary>
public sealed class KeyRingOptions : IValidatableObject
{
    public const string Section = "DataProtection";
    public const string FileSystem = "FileSystem";
    public const string Database = "Database";

    /// <summary>FileSystem or Database; null: Database on PostgreSQL, FileSystem on SQLite.</summary>
    public string? KeyStore { get; set; }
    public string? CertificatePath { get; set; }
    public string? CertificatePassword { get; set; }

    public bool InDatabase(DatabaseOptions database) => KeyStore is null
        ? database.IsPostgres
        : string.Equals(KeyStore, Database, StringComparison.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate(ValidationContext context)
    {
        if (KeyStore is not null && !string.Equals(KeyStore, FileSystem, StringComparison.OrdinalIgnoreCase)
            && !string.Equals(KeyStore, Database, StringComparison.OrdinalIgnoreCase))
            yield return new ValidationResult(
                $"DataProtection:KeyStore « {KeyStore} » inconnu : choisissez FileSystem ou Database.", [nameof(KeyStore)]);
    }
}

/// <summary>
/// <c>KeyRing:AllowUnprotected=true</c> accepts the key ring in the database without a certificate outside Development
/// (see <see cref="Data.KeyRing.Unprotected"/>): the operator's explicit acknowledgement that whoever reads the
/// database holds the keys too.
/// </summary>
public sealed class KeyRingSafetyOptions
{
    public const string Section = "KeyRing";
    public bool AllowUnprotected { get; set; }
}

public sealed class StaffOptions
{
    public const string Section = "Staff";
    /// <summary>Staff sign-in submissions per minute per client address before 429.</summary>
    [Range(1, 100000)] public int SignInRequestsPerMinutePerIp { get; set; } = 10;
}

public sealed class BackupOptions
{
    public const string Section = "Backup";
    /// <summary>PEM X.509 certificate (path) whose public key encrypts backups (CMS enveloped, AES-256).</summary>
    public string? RecipientCertificate { get; set; }
    /// <summary>PEM X.509 certificate (path) of the key that signs encrypted backups; restore checks against the operator's copy.</summary>
    public string? SigningCertificate { get; set; }
    /// <summary>PEM private key (path, unencrypted) matching <see cref="SigningCertificate"/>.</summary>
    public string? SigningKey { get; set; }
}

public sealed class ClinicOptions
{
    public const string Section = "Clinic";
    [Required] public string Name { get; set; } = "CIMEF — Centre d'Imagerie Médicale";
    public string Address { get; set; } = "Dakar, Sénégal";
    public string Phone { get; set; } = "+221 33 800 00 00";
    public string TimeZone { get; set; } = "Africa/Dakar";
}

public sealed class EmailOptions
{
    public const string Section = "Email";
    [Required, EmailAddress] public string From { get; set; } = "noreply@cimef.sn";
    public SmtpOptions Smtp { get; set; } = new();
}

public sealed class SmtpOptions
{
    public string? Host { get; set; }
    [Range(1, 65535)] public int Port { get; set; } = 587;
    /// <summary>Auto, None, StartTls, StartTlsWhenAvailable or SslOnConnect.</summary>
    public string Security { get; set; } = "Auto";
    public string? User { get; set; }
    public string? Password { get; set; }
}

public sealed class SmsOptions
{
    public const string Section = "Sms";
    /// <summary>None (pickup folder), Orange or Twilio.</summary>
    public string Provider { get; set; } = "None";
    public bool IncludePassword { get; set; }
    /// <summary>HTTP timeout for provider calls; a timeout is retried by the outbox.</summary>
    [Range(1, 300)] public int TimeoutSeconds { get; set; } = 15;
    public OrangeSmsOptions Orange { get; set; } = new();
    public TwilioSmsOptions Twilio { get; set; } = new();
}

public sealed class OrangeSmsOptions
{
    public string BaseUrl { get; set; } = "https://api.orange.com";
    public string? ClientId { get; set; }
    public string? ClientSecret { get; set; }
    /// <summary>Sender address registered with Orange, e.g. tel:+221770000000.</summary>
    public string? SenderAddress { get; set; }
    public string? SenderName { get; set; }
}

public sealed class TwilioSmsOptions
{
    public string BaseUrl { get; set; } = "https://api.twilio.com";
    public string? AccountSid { get; set; }
    public string? AuthToken { get; set; }
    public string? From { get; set; }
}

public sealed class ReportsOptions
{
    public const string Section = "Reports";
    [Range(1, 1024)] public int MaxUploadMegabytes { get; set; } = 50;
    /// <summary>Runs the background file integrity check (at start, then every IntegrityCheckHours).</summary>
    public bool IntegrityWorkerEnabled { get; set; } = true;
    [Range(1, 720)] public int IntegrityCheckHours { get; set; } = 24;
}

public sealed class NotificationsOptions
{
    public const string Section = "Notifications";
    /// <summary>Runs the background outbox sender (tests turn it off and call OutboxProcessor directly).</summary>
    public bool WorkerEnabled { get; set; } = true;
    [Range(1, 3600)] public int PollSeconds { get; set; } = 15;
    /// <summary>
    /// How long a node's claim on a batch holds; a node that dies mid-send leaves its messages to another after it.
    /// A node sends only in the first half of its lease, so make it several times the longest single send.
    /// </summary>
    [Range(5, 86400)] public int LeaseSeconds { get; set; } = 900;
}

public sealed class AlertsOptions
{
    public const string Section = "Alerts";
    [EmailAddress] public string? Email { get; set; }
    [Range(1, 600000)] public int SlowMilliseconds { get; set; } = 2000;
    /// <summary>Credentials revealed by one staff account within an hour above which an alert fires.</summary>
    [Range(1, 100000)] public int RevealsPerHour { get; set; } = 20;
    /// <summary>FHIR records (read, found by a search, or a report file) returned to one account within an hour above which an alert fires.</summary>
    [Range(1, 10_000_000)] public int FhirRecordsPerHour { get; set; } = 500;
    /// <summary>Passwords renewed by patients from their phone, clinic-wide, within an hour above which an alert fires.</summary>
    [Range(1, 100000)] public int RecoveriesPerHour { get; set; } = 20;
    /// <summary>Alerts raised per rule per hour; beyond, one digest line (« et 37 autres »).</summary>
    [Range(1, 1000)] public int MaxPerRulePerHour { get; set; } = 10;
}

public sealed class AuditOptions
{
    public const string Section = "Audit";
    [Range(1, 36500)] public int RetentionDays { get; set; } = 730;
}

public sealed class NetworkOptions
{
    public const string Section = "Network";
    /// <summary>Reverse proxies whose X-Forwarded-For/Proto are trusted (IP addresses).</summary>
    public string[] KnownProxies { get; set; } = [];
    /// <summary>IPv6 clients are counted per network of this prefix length (throttle and flood limiter).</summary>
    [Range(32, 128)] public int Ipv6PrefixLength { get; set; } = 64;
}

public sealed class AdminOptions
{
    public const string Section = "Admin";
    public string? Email { get; set; }
    public string? Password { get; set; }
}

/// <summary>Online payment providers. Each is off until all its settings are given; then it shows on the invoice page.</summary>
public sealed class PaymentsOptions : IValidatableObject
{
    public const string Section = "Payments";
    public WaveOptions Wave { get; set; } = new();
    /// <summary>Timeout of a call to a provider's API; past it staff get a French 502 and nothing is recorded.</summary>
    [Range(1, 120)] public int TimeoutSeconds { get; set; } = 15;

    public IEnumerable<ValidationResult> Validate(ValidationContext context) => Wave.Validate();
}

/// <summary>Wave Checkout API (docs.wave.com/checkout): <c>Payments:Wave:BaseUrl</c>, <c>ApiKey</c>, <c>WebhookSecret</c>.</summary>
public sealed class WaveOptions
{
    public string? BaseUrl { get; set; }
    public string? ApiKey { get; set; }
    /// <summary>The signing secret Wave shows when the webhook is registered (« Signing secret » strategy).</summary>
    public string? WebhookSecret { get; set; }

    public bool IsConfigured => !string.IsNullOrWhiteSpace(BaseUrl) && !string.IsNullOrWhiteSpace(ApiKey) && !string.IsNullOrWhiteSpace(WebhookSecret);

    public const string HttpsRequired = "Payments:Wave:BaseUrl doit commencer par https:// : la clé d'API Wave ne circule jamais en clair (http n'est accepté qu'en développement).";

    /// <summary>
    /// Every call carries the API key, so the address is https except in Development and in the test host (environment
    /// « Testing », whose loopback fake Wave speaks plain http).
    /// </summary>
    public bool HasSecureBaseUrl(IHostEnvironment env) =>
        string.IsNullOrWhiteSpace(BaseUrl) || env.IsDevelopment() || env.IsEnvironment("Testing")
        || BaseUrl.Trim().StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    public IEnumerable<ValidationResult> Validate()
    {
        var given = new[] { BaseUrl, ApiKey, WebhookSecret }.Count(v => !string.IsNullOrWhiteSpace(v));
        if (given is > 0 and < 3)
            yield return new ValidationResult("Payments:Wave demande les trois réglages BaseUrl, ApiKey et WebhookSecret (ou aucun pour désactiver Wave).");
        if (!string.IsNullOrWhiteSpace(BaseUrl) && (!Uri.TryCreate(BaseUrl, UriKind.Absolute, out var u) || u.Scheme is not ("http" or "https")))
            yield return new ValidationResult($"Payments:Wave:BaseUrl « {BaseUrl} » n'est pas une adresse valide (par exemple https://api.wave.com).");
    }
}

public static class OptionsSetup
{
    /// <summary>Typed configuration: every section bound and validated at start (a wrong setting stops the start with a readable message).</summary>
    public static WebApplicationBuilder AddCimefOptions(this WebApplicationBuilder builder)
    {
        var config = builder.Configuration;
        Add<StorageOptions>(StorageOptions.Section).PostConfigure<IHostEnvironment>((o, env) =>
            o.Root = Path.GetFullPath(Path.Combine(env.ContentRootPath, o.DataDirectory)));
        Add<PortalOptions>(PortalOptions.Section);
        Add<ClinicOptions>(ClinicOptions.Section);
        Add<EmailOptions>(EmailOptions.Section);
        Add<SmsOptions>(SmsOptions.Section);
        Add<ReportsOptions>(ReportsOptions.Section);
        Add<NotificationsOptions>(NotificationsOptions.Section);
        Add<AlertsOptions>(AlertsOptions.Section);
        Add<AuditOptions>(AuditOptions.Section);
        Add<NetworkOptions>(NetworkOptions.Section);
        Add<AdminOptions>(AdminOptions.Section);
        // The binder appends configured array items to the defaults; a configured role list replaces them instead.
        Add<AccessOptions>(AccessOptions.Section).PostConfigure(o =>
            o.CredentialRoles = config.GetSection(AccessOptions.Section + ":" + nameof(AccessOptions.CredentialRoles)).Get<string[]>() ?? o.CredentialRoles);
        Add<StaffOptions>(StaffOptions.Section);
        Add<BackupOptions>(BackupOptions.Section);
        Add<PaymentsOptions>(PaymentsOptions.Section).Validate<IHostEnvironment>((o, env) => o.Wave.HasSecureBaseUrl(env), WaveOptions.HttpsRequired);
        Add<DatabaseOptions>(DatabaseOptions.Section);
        Add<ClusterOptions>(ClusterOptions.Section);
        // Key ring (and the credential HMAC secret with it): keys directory or database, optionally certificate-encrypted.
        Add<KeyRingOptions>(KeyRingOptions.Section);
        Add<KeyRingSafetyOptions>(KeyRingSafetyOptions.Section);
        return builder;

        Microsoft.Extensions.Options.OptionsBuilder<T> Add<T>(string section) where T : class =>
            builder.Services.AddOptions<T>().Bind(config.GetSection(section)).ValidateDataAnnotations().ValidateOnStart();
    }
}
