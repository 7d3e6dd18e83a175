using System.Security.Claims;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Microsoft.EntityFrameworkCore;
using Cimef.Site.Storage;

namespace Cimef.Site.Reports;

/// <summary>
/// The spec's release workflow, shared by the upload page and the API: check the file by magic bytes,
/// store it (ReportStore), cross-validate the patient access against an invoice of the same patient
/// linked to that access (sent or paid), then commit the row, its audit entry and — when validated —
/// the "results available" notification in one SaveChanges. If the commit fails the file is deleted.
/// </summary>
public sealed class ReportPublisher(CimefDb db, ReportStore store, TimeProvider time, ILogger<ReportPublisher> log)
{
    /// <summary>StorageFailed: the file could not be written (disk full, folder not writable); nothing was saved.</summary>
    public enum Outcome { Published, StoredInactive, Invalid, Conflict, StorageFailed }

    public const string DiskFull = "Espace disque insuffisant sur le serveur : le rapport n'a pas été enregistré. Prévenez l'administrateur puis réessayez.";
    public const string StoreUnavailable = "Le stockage des rapports (S3) ne répond pas ou refuse l'envoi : le rapport n'a pas été enregistré. Prévenez l'administrateur puis réessayez.";
    public const string FolderUnwritable = "Le dossier des rapports n'est pas accessible en écriture : le rapport n'a pas été enregistré. Prévenez l'administrateur puis réessayez.";

    public sealed record Validation(bool Ok, PatientAccess? Access, Invoice? Invoice, string Message);

    public sealed record Result(Outcome Outcome, string Message, PatientReport? Report = null, Invoice? Invoice = null);

    public const string NoInvoice = "Aucune facture trouvée avec ces clés";

    /// <summary>Valid when the patient's access is active and an invoice of the same patient linked to it is sent or paid.</summary>
    public async Task<Validation> CrossValidateAsync(int patientId, int? invoiceId, CancellationToken ct = default)
    {
        var access = await db.PatientAccesses.SingleOrDefaultAsync(a => a.PatientId == patientId, ct);
        if (access is null)
            return new(false, null, null, NoInvoice + " : ce patient n'a pas d'accès au portail (aucune facture émise).");
        if (!access.IsActive)
            return new(false, access, null, "Accès patient désactivé : le rapport ne peut pas être publié.");
        var query = db.Invoices.Where(i => i.PatientId == patientId && i.PatientAccessId == access.Id
                                           && (i.Status == InvoiceStatus.Sent || i.Status == InvoiceStatus.Paid));
        if (invoiceId is int id) query = query.Where(i => i.Id == id);
        var invoice = await query.OrderByDescending(i => i.Id).FirstOrDefaultAsync(ct);
        return invoice is null
            ? new(false, access, null, NoInvoice + ".")
            : new(true, access, invoice, $"Clés validées avec facture {invoice.Number}");
    }

    public async Task<Result> UploadAsync(int patientId, int? invoiceId, string? title, string? originalName, Stream content, ClaimsPrincipal by, CancellationToken ct = default,
        (string System, string Value)? identifier = null)
    {
        title = (title ?? "").Trim();
        if (title.Length == 0) return new(Outcome.Invalid, "Le titre est obligatoire.");
        if (title.Length > 200) return new(Outcome.Invalid, "Le titre ne doit pas dépasser 200 caractères.");
        title = new string(title.Where(c => !char.IsControl(c)).ToArray());

        var patient = await db.Patients.SingleOrDefaultAsync(p => p.Id == patientId, ct);
        if (patient is null) return new(Outcome.Invalid, "Patient introuvable.");

        var check = await FileTypes.CheckAsync(content, ct);
        if (check.Type is null) return new(Outcome.Invalid, check.Error!);

        Invoice? chosen = null;
        if (invoiceId is int iid)
        {
            chosen = await db.Invoices.SingleOrDefaultAsync(i => i.Id == iid, ct);
            if (chosen is null || chosen.PatientId != patientId)
                return new(Outcome.Conflict, NoInvoice + " : cette facture n'appartient pas à ce patient.");
        }
        var validation = await CrossValidateAsync(patientId, invoiceId, ct);
        if (validation.Access is null) return new(Outcome.Conflict, validation.Message);
        var invoice = validation.Invoice ?? chosen;
        if (invoice is null) return new(Outcome.Conflict, validation.Message);

        ReportStore.StoredFile stored;
        try
        {
            stored = await store.SaveAsync(content, check.Type.Extension, ct);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // ReportStore has already removed its temp file (or aborted its upload); nothing else was written.
            if (e is ReportStore.UnavailableException)
            {
                log.LogError(e, "Report file could not be stored (object store unavailable).");
                return new(Outcome.StorageFailed, StoreUnavailable);
            }
            var full = IsDiskFull(e);
            log.LogError(e, "Report file could not be stored ({Reason}).", full ? "disk full" : "reports folder not writable");
            return new(Outcome.StorageFailed, full ? DiskFull : FolderUnwritable);
        }
        var now = time.GetUtcNow().UtcDateTime;
        var report = new PatientReport
        {
            PatientAccessId = validation.Access.Id,
            InvoiceId = invoice.Id,
            Title = title,
            StoredFileName = stored.StoredFileName,
            OriginalName = FileTypes.SafeOriginalName(originalName),
            ContentType = check.Type.ContentType,
            Size = stored.Size,
            Sha256 = stored.Sha256,
            CreatedAt = now,
            CreatedBy = by.Identity?.Name ?? "système",
            IsActive = validation.Ok,
            IdentifierSystem = identifier?.System,
            IdentifierValue = identifier?.Value,
        };
        try
        {
            // One transaction: the row, its audit entry and the notification commit together or not at all.
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            db.PatientReports.Add(report);
            await db.SaveChangesAsync(ct);
            Audit.Staff(db, by, now, "report.upload", "PatientReport", report.Id,
                $"patient {patientId}, facture {invoice.Number}, {check.Type.Label}, {stored.Size} octets, {(validation.Ok ? "publié" : "non publié")}");
            if (validation.Ok) Outbox.Queue(db, OutboxKind.ReportAvailable, patient, validation.Access, report, now);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
        }
        catch
        {
            db.ChangeTracker.Clear();
            await store.DeleteAsync(stored.StoredFileName, CancellationToken.None);
            throw;
        }
        return new(validation.Ok ? Outcome.Published : Outcome.StoredInactive,
            validation.Ok ? validation.Message : "Rapport enregistré mais non publié : " + validation.Message, report, invoice);
    }

    /// <summary>ENOSPC (28) on Unix, ERROR_HANDLE_DISK_FULL / ERROR_DISK_FULL on Windows.</summary>
    private static bool IsDiskFull(Exception e) => (e.HResult & 0xFFFF) is 28 or 0x27 or 0x70;

    /// <summary>Withdraws a report from the patient's list (the file is kept). Reason required; audited.</summary>
    public Result Withdraw(PatientReport report, string? reason, ClaimsPrincipal by)
    {
        reason = (reason ?? "").Trim();
        if (reason.Length == 0) return new(Outcome.Invalid, "Indiquez le motif du retrait.", report);
        if (reason.Length > 200) return new(Outcome.Invalid, "Le motif ne doit pas dépasser 200 caractères.", report);
        if (!report.IsActive) return new(Outcome.Conflict, "Ce rapport n'est pas publié.", report);
        var now = time.GetUtcNow().UtcDateTime;
        report.IsActive = false;
        report.WithdrawalReason = reason;
        report.WithdrawnAt = now;
        report.WithdrawnBy = by.Identity?.Name ?? "système";
        Reports.ReportShares.EndForReport(db, report.Id, now);
        Audit.Staff(db, by, now, "report.withdraw", "PatientReport", report.Id, reason);
        return new(Outcome.StoredInactive, "Rapport retiré du portail patient (le fichier est conservé).", report);
    }

    /// <summary>(Re)publishes a report after the same cross-validation; the patient is notified on its first release only.</summary>
    public async Task<Result> PublishAsync(PatientReport report, ClaimsPrincipal by, CancellationToken ct = default)
    {
        if (report.IsActive) return new(Outcome.Published, "Ce rapport est déjà publié.", report);
        var access = await db.PatientAccesses.Include(a => a.Patient).SingleAsync(a => a.Id == report.PatientAccessId, ct);
        var validation = await CrossValidateAsync(access.PatientId, report.InvoiceId, ct);
        if (!validation.Ok) return new(Outcome.Conflict, validation.Message, report);
        var now = time.GetUtcNow().UtcDateTime;
        var wasWithdrawn = report.WithdrawnAt is not null;
        report.IsActive = true;
        report.WithdrawalReason = null;
        report.WithdrawnAt = null;
        report.WithdrawnBy = null;
        Audit.Staff(db, by, now, wasWithdrawn ? "report.republish" : "report.publish", "PatientReport", report.Id, validation.Message);
        if (!await db.OutboxMessages.AnyAsync(m => m.ReportId == report.Id, ct))
            Outbox.Queue(db, OutboxKind.ReportAvailable, access.Patient, access, report, now);
        return new(Outcome.Published, validation.Message, report, validation.Invoice);
    }
}
