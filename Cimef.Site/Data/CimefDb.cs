using Cimef.Site.Data.Entities;
using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.AspNetCore.Identity.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Cimef.Site.Portal;
using Cimef.Site.Reports;

namespace Cimef.Site.Data;

/// <summary>
/// The model, on SQLite (this class, migrations in Data/Migrations/Sqlite) or PostgreSQL (<see cref="PostgresCimefDb"/>,
/// migrations in Data/Migrations/Postgres).
/// </summary>
public class CimefDb : IdentityDbContext<StaffUser>, IDataProtectionKeyContext
{
    public CimefDb(DbContextOptions<CimefDb> options) : base(options) { }

    /// <summary>For a provider-specific subclass (its own options type, its own migration set).</summary>
    protected CimefDb(DbContextOptions options) : base(options) { }

    /// <summary>
    /// A column named in raw SQL (check constraints). SQLite's text stays unquoted, as its migrations created it;
    /// PostgreSQL folds unquoted names to lower case, so its subclass quotes them.
    /// </summary>
    protected virtual string Column(string name) => name;

    public DbSet<Patient> Patients => Set<Patient>();
    public DbSet<Exam> Exams => Set<Exam>();
    public DbSet<Invoice> Invoices => Set<Invoice>();
    public DbSet<InvoiceLine> InvoiceLines => Set<InvoiceLine>();
    public DbSet<InvoiceCounter> InvoiceCounters => Set<InvoiceCounter>();
    public DbSet<Payment> Payments => Set<Payment>();
    public DbSet<PaymentCheckout> PaymentCheckouts => Set<PaymentCheckout>();
    public DbSet<PatientAccess> PatientAccesses => Set<PatientAccess>();
    public DbSet<PatientReport> PatientReports => Set<PatientReport>();
    public DbSet<PatientSession> PatientSessions => Set<PatientSession>();
    public DbSet<ReportShare> ReportShares => Set<ReportShare>();
    public DbSet<RecoveryCode> RecoveryCodes => Set<RecoveryCode>();
    public DbSet<LoginFailure> LoginFailures => Set<LoginFailure>();
    public DbSet<AccessEvent> AccessEvents => Set<AccessEvent>();
    public DbSet<AccessEventDay> AccessEventDays => Set<AccessEventDay>();
    public DbSet<StatisticsDay> StatisticsDays => Set<StatisticsDay>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<OutboxMessage> OutboxMessages => Set<OutboxMessage>();
    public DbSet<ApiToken> ApiTokens => Set<ApiToken>();
    public DbSet<Alert> Alerts => Set<Alert>();
    public DbSet<JobState> JobStates => Set<JobState>();
    /// <summary>The Data Protection key ring when <c>DataProtection:KeyStore=Database</c> (several nodes).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();
    public DbSet<ClusterSecret> ClusterSecrets => Set<ClusterSecret>();
    public DbSet<RateLimitCounter> RateLimitCounters => Set<RateLimitCounter>();
    public DbSet<PortalTiming> PortalTimings => Set<PortalTiming>();
    public DbSet<Imaging.ImagingStudy> ImagingStudies => Set<Imaging.ImagingStudy>();

    protected override void ConfigureConventions(ModelConfigurationBuilder b)
    {
        // Every timestamp is UTC; SQLite stores text, so mark values read back as UTC.
        b.Properties<DateTime>().HaveConversion<UtcDateTimeConverter>();
        b.Properties<DateTime?>().HaveConversion<NullableUtcDateTimeConverter>();
    }

    protected override void OnModelCreating(ModelBuilder b)
    {
        base.OnModelCreating(b);

        b.Entity<Patient>(e =>
        {
            e.Property(p => p.FullName).HasMaxLength(120);
            e.Property(p => p.SearchName).HasMaxLength(120);
            e.Property(p => p.Phone).HasMaxLength(20);
            e.Property(p => p.Email).HasMaxLength(254);
            e.Property(p => p.Language).HasMaxLength(5);
            e.HasIndex(p => p.SearchName);
            e.HasIndex(p => p.Phone);
        });

        b.Entity<Exam>(e =>
        {
            e.Property(x => x.Code).HasMaxLength(20);
            e.Property(x => x.Name).HasMaxLength(120);
            e.Property(x => x.Modality).HasMaxLength(40);
            e.HasIndex(x => x.Code).IsUnique();
            e.ToTable(t => t.HasCheckConstraint("CK_Exam_Price", $"{Column("Price")} >= 0"));
        });

        b.Entity<Invoice>(e =>
        {
            e.Property(x => x.Number).HasMaxLength(20);
            e.Property(x => x.Status).HasConversion<string>().HasMaxLength(12);
            e.HasIndex(x => x.Number).IsUnique();
            e.HasIndex(x => new { x.PatientId, x.Status });
            e.HasIndex(x => x.PatientAccessId);
            e.HasOne(x => x.Patient).WithMany(p => p.Invoices).OnDelete(DeleteBehavior.Restrict);
            e.HasOne(x => x.PatientAccess).WithMany().OnDelete(DeleteBehavior.Restrict);
            e.ToTable(t => t.HasCheckConstraint("CK_Invoice_Total", $"{Column("Total")} >= 0"));
        });

        b.Entity<InvoiceLine>(e =>
        {
            e.Property(x => x.Description).HasMaxLength(200);
            e.HasOne(x => x.Invoice).WithMany(i => i.Lines).OnDelete(DeleteBehavior.Cascade);
            e.HasOne(x => x.Exam).WithMany().OnDelete(DeleteBehavior.Restrict);
            e.ToTable(t =>
            {
                t.HasCheckConstraint("CK_InvoiceLine_Quantity", $"{Column("Quantity")} >= 1");
                t.HasCheckConstraint("CK_InvoiceLine_UnitPrice", $"{Column("UnitPrice")} >= 0");
            });
        });

        b.Entity<InvoiceCounter>().HasKey(x => x.Year);

        b.Entity<Payment>(e =>
        {
            e.Property(x => x.Method).HasConversion<string>().HasMaxLength(12);
            e.HasIndex(x => x.At);
            e.Property(x => x.Reference).HasMaxLength(100);
            // One payment per provider reference: a replayed or duplicate webhook cannot record a second one.
            e.HasIndex(x => new { x.Method, x.Reference }).IsUnique();
            e.HasOne(x => x.Invoice).WithMany(i => i.Payments).OnDelete(DeleteBehavior.Restrict);
            e.ToTable(t => t.HasCheckConstraint("CK_Payment_Amount", $"{Column("Amount")} > 0"));
        });

        b.Entity<PaymentCheckout>(e =>
        {
            e.Property(x => x.Provider).HasMaxLength(20);
            e.Property(x => x.CheckoutId).HasMaxLength(100);
            e.Property(x => x.Url).HasMaxLength(500);
            e.Property(x => x.Status).HasConversion<string>().HasMaxLength(10);
            e.Property(x => x.CreatedBy).HasMaxLength(256);
            e.Property(x => x.LastEventId).HasMaxLength(100);
            e.HasIndex(x => new { x.Provider, x.CheckoutId }).IsUnique();
            e.HasIndex(x => new { x.InvoiceId, x.CreatedAt });
            e.HasOne(x => x.Invoice).WithMany().OnDelete(DeleteBehavior.Restrict);
            e.ToTable(t => t.HasCheckConstraint("CK_PaymentCheckout_Amount", $"{Column("Amount")} > 0"));
        });

        b.Entity<PatientAccess>(e =>
        {
            e.Property(x => x.AccessKey).HasMaxLength(12);
            e.HasIndex(x => x.AccessKey).IsUnique();
            e.HasIndex(x => x.PatientId).IsUnique();
            e.HasOne(x => x.Patient).WithOne(p => p.Access).HasForeignKey<PatientAccess>(x => x.PatientId).OnDelete(DeleteBehavior.Restrict);
        });

        b.Entity<PatientReport>(e =>
        {
            e.Property(x => x.Title).HasMaxLength(200);
            e.Property(x => x.OriginalName).HasMaxLength(255);
            e.Property(x => x.StoredFileName).HasMaxLength(100);
            e.Property(x => x.Sha256).HasMaxLength(64);
            e.Property(x => x.Integrity).HasConversion<string>().HasMaxLength(12);
            e.HasIndex(x => new { x.PatientAccessId, x.IsActive, x.CreatedAt });
            e.HasIndex(x => x.InvoiceId);
            e.Property(x => x.IdentifierSystem).HasMaxLength(200);
            e.Property(x => x.IdentifierValue).HasMaxLength(200);
            e.Property(x => x.Sha1).HasMaxLength(40);
            e.HasIndex(x => new { x.IdentifierSystem, x.IdentifierValue }).IsUnique();
            e.HasOne(x => x.PatientAccess).WithMany(a => a.Reports).OnDelete(DeleteBehavior.Restrict);
            e.HasOne(x => x.Invoice).WithMany().OnDelete(DeleteBehavior.Restrict);
        });

        b.Entity<ReportShare>(e =>
        {
            e.Property(x => x.TokenHash).HasMaxLength(64);
            e.Property(x => x.CodeHash).HasMaxLength(32);
            e.Property(x => x.RevokedBy).HasMaxLength(256);
            e.Property(x => x.CreatedByStaffId).HasMaxLength(450);
            e.Property(x => x.CreatedByStaffName).HasMaxLength(256);
            e.Property(x => x.Recipient).HasMaxLength(254);
            e.Property(x => x.ProtectedSecret).HasMaxLength(1000);
            e.HasIndex(x => x.TokenHash).IsUnique();
            e.HasIndex(x => new { x.PatientAccessId, x.RevokedAt, x.ExpiresAt });
            e.HasIndex(x => x.ReportId);
            e.HasOne(x => x.Report).WithMany().OnDelete(DeleteBehavior.Restrict);
            e.HasOne(x => x.PatientAccess).WithMany().OnDelete(DeleteBehavior.Restrict);
        });

        b.Entity<RecoveryCode>(e =>
        {
            e.Property(x => x.ContactHash).HasMaxLength(32);
            e.Property(x => x.CodeHash).HasMaxLength(32);
            e.Property(x => x.ProtectedCode).HasMaxLength(500);
            e.Property(x => x.Channel).HasConversion<string>().HasMaxLength(8);
            e.Property(x => x.TokenHash).HasMaxLength(64);
            e.Property(x => x.AccessIds).HasMaxLength(200);
            e.HasIndex(x => new { x.ContactHash, x.CreatedAt });
            e.HasIndex(x => x.TokenHash).IsUnique();
            e.HasIndex(x => x.CreatedAt);
        });

        b.Entity<PatientSession>(e =>
        {
            e.Property(x => x.TokenHash).HasMaxLength(64);
            e.HasIndex(x => x.TokenHash).IsUnique();
            e.HasIndex(x => new { x.PatientAccessId, x.EndedAt });
            e.Property(x => x.DeviceHash).HasMaxLength(64);
            e.HasIndex(x => x.DeviceHash);
            e.HasOne(x => x.PatientAccess).WithMany().OnDelete(DeleteBehavior.Cascade);
        });

        b.Entity<LoginFailure>(e =>
        {
            e.Property(x => x.Key).HasMaxLength(40);
            e.Property(x => x.ClientIp).HasMaxLength(45);
            e.HasIndex(x => new { x.Key, x.At });
            e.HasIndex(x => new { x.ClientIp, x.At });
            e.HasIndex(x => new { x.PatientAccessId, x.At });
        });

        b.Entity<AccessEvent>(e =>
        {
            e.Property(x => x.Kind).HasMaxLength(24);
            e.Property(x => x.KeySuffix).HasMaxLength(4);
            e.Property(x => x.ClientIp).HasMaxLength(45);
            e.Property(x => x.UserAgent).HasMaxLength(200);
            e.Property(x => x.Detail).HasMaxLength(200);
            e.HasIndex(x => x.At);
            // Covering index for the statistics (kind + day range, per access, per report): index-only scans.
            e.HasIndex(x => new { x.Kind, x.At, x.PatientAccessId, x.ReportId });
            e.HasIndex(x => new { x.PatientAccessId, x.At });
            // One patient's events of one kind (the dashboard's monthly downloads, the staff history's login count):
            // a range of this patient's rows only, index-only, however busy the patient's month.
            e.HasIndex(x => new { x.PatientAccessId, x.Kind, x.At, x.ReportId });
        });

        b.Entity<AccessEventDay>(e =>
        {
            e.HasKey(x => new { x.Day, x.Kind, x.PatientAccessId, x.ReportId });
            e.Property(x => x.Kind).HasMaxLength(24);
        });

        b.Entity<StatisticsDay>(e => e.HasKey(x => x.Day));

        b.Entity<AuditEntry>(e =>
        {
            e.Property(x => x.UserName).HasMaxLength(256);
            e.Property(x => x.Action).HasMaxLength(60);
            e.Property(x => x.EntityType).HasMaxLength(40);
            e.Property(x => x.EntityId).HasMaxLength(40);
            e.Property(x => x.Detail).HasMaxLength(500);
            e.Property(x => x.Handover).HasConversion<string>().HasMaxLength(16);
            e.HasIndex(x => x.At);
            e.HasIndex(x => new { x.UserName, x.At });
            e.HasIndex(x => new { x.Action, x.At });
            // The patient's history: the rows about one access, newest first.
            e.HasIndex(x => new { x.EntityType, x.EntityId, x.At });
        });

        b.Entity<OutboxMessage>(e =>
        {
            e.Property(x => x.Kind).HasConversion<string>().HasMaxLength(20);
            e.Property(x => x.Channel).HasConversion<string>().HasMaxLength(8);
            e.Property(x => x.Status).HasConversion<string>().HasMaxLength(10);
            e.Property(x => x.Recipient).HasMaxLength(254);
            e.Property(x => x.LastError).HasMaxLength(500);
            // A node marks a message only while its claim is still the current one (see OutboxProcessor).
            e.Property(x => x.ClaimedBy).HasMaxLength(100).IsConcurrencyToken();
            e.Property(x => x.LeaseUntil).IsConcurrencyToken();
            e.HasIndex(x => new { x.Status, x.NextAttemptAt });
            e.HasIndex(x => x.PatientId);
            e.HasOne(x => x.Patient).WithMany().OnDelete(DeleteBehavior.Restrict);
            e.HasOne(x => x.PatientAccess).WithMany().HasForeignKey(x => x.PatientAccessId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne(x => x.Report).WithMany().HasForeignKey(x => x.ReportId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne(x => x.PaymentCheckout).WithMany().HasForeignKey(x => x.PaymentCheckoutId).OnDelete(DeleteBehavior.Restrict);
            e.HasOne(x => x.ReportShare).WithMany().HasForeignKey(x => x.ReportShareId).OnDelete(DeleteBehavior.Restrict);
            // A code's message outlives the code row (purged after a day): the reference is cleared, the message kept.
            e.HasOne(x => x.RecoveryCode).WithMany().HasForeignKey(x => x.RecoveryCodeId).OnDelete(DeleteBehavior.SetNull);
        });

        b.Entity<ApiToken>(e =>
        {
            e.Property(x => x.TokenHash).HasMaxLength(64);
            e.Property(x => x.Name).HasMaxLength(100);
            e.HasIndex(x => x.TokenHash).IsUnique();
            e.HasIndex(x => x.ExpiresAt);
            e.HasOne(x => x.User).WithMany().OnDelete(DeleteBehavior.Cascade);
        });

        b.Entity<Alert>(e =>
        {
            e.Property(x => x.Level).HasConversion<string>().HasMaxLength(10);
            e.Property(x => x.Kind).HasMaxLength(40);
            e.Property(x => x.Subject).HasMaxLength(120);
            e.Property(x => x.Detail).HasMaxLength(500);
            e.Property(x => x.DedupKey).HasMaxLength(200);
            e.HasIndex(x => new { x.AcknowledgedAt, x.At });
            e.HasIndex(x => x.DedupKey);
        });

        b.Entity<JobState>(e =>
        {
            e.HasKey(x => x.Name);
            e.Property(x => x.Name).HasMaxLength(40);
            e.Property(x => x.RunBy).HasMaxLength(100);
        });

        b.Entity<ClusterSecret>(e =>
        {
            e.HasKey(x => x.Name);
            e.Property(x => x.Name).HasMaxLength(60);
        });

        b.Entity<RateLimitCounter>(e =>
        {
            e.HasKey(x => new { x.Policy, x.Bucket, x.WindowStart });
            e.Property(x => x.Policy).HasMaxLength(40);
            e.Property(x => x.Bucket).HasMaxLength(50);
            e.HasIndex(x => x.WindowStart);
        });

        b.Entity<PortalTiming>(e =>
        {
            e.HasKey(x => new { x.Node, x.Minute, x.UpperMs });
            e.Property(x => x.Node).HasMaxLength(100);
            e.HasIndex(x => x.Minute);
        });

        Imaging.ImagingModel.Configure(b);
    }

    internal sealed class UtcDateTimeConverter() : ValueConverter<DateTime, DateTime>(
        v => v.Kind == DateTimeKind.Utc ? v : v.ToUniversalTime(),
        v => DateTime.SpecifyKind(v, DateTimeKind.Utc));

    internal sealed class NullableUtcDateTimeConverter() : ValueConverter<DateTime?, DateTime?>(
        v => v.HasValue ? (v.Value.Kind == DateTimeKind.Utc ? v.Value : v.Value.ToUniversalTime()) : v,
        v => v.HasValue ? DateTime.SpecifyKind(v.Value, DateTimeKind.Utc) : v);
}
