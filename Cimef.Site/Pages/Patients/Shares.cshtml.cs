using System.ComponentModel.DataAnnotations;
using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.FrontDesk;
using Cimef.Site.Notifications;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;
using Cimef.Site.Reports;

namespace Cimef.Site.Pages.Patients;

/// <summary>
/// « Partager avec le médecin prescripteur »: the clinic shares one of the patient's reports with the
/// referring doctor through the outbox, the link and the code never on the same channel: link by e-mail and code by SMS
/// when both are given; with one contact only, the link goes by it and staff dictate the code by phone. Audited; the
/// active shares are listed with « Révoquer ».
/// </summary>
[Authorize(Policy = Policies.FrontDesk)]
public class SharesModel(CimefDb db, ReportShares shares, TimeProvider time) : StaffPage
{
    public sealed class InputModel
    {
        public int? ReportId { get; set; }
        public int Days { get; set; } = 7;
        [MaxLength(254)] public string? Email { get; set; }
        [MaxLength(30)] public string? Phone { get; set; }
    }

    public sealed record ReportOption(int Id, string Title, DateTime CreatedAt);

    [BindProperty] public InputModel Input { get; set; } = new();
    public Patient Patient { get; private set; } = null!;
    public IReadOnlyList<ReportOption> Reports { get; private set; } = [];
    public IReadOnlyList<ReportShares.Row> Active { get; private set; } = [];
    /// <summary>The code of the share just created for a doctor with one contact only, for staff to dictate by phone.</summary>
    public string? DictateCode { get; private set; }

    public async Task<IActionResult> OnGetAsync(int id) => await LoadAsync(id) ? Page() : NotFound();

    public async Task<IActionResult> OnPostCreateAsync(int id)
    {
        if (!await LoadAsync(id)) return NotFound();
        var now = time.GetUtcNow().UtcDateTime;
        var report = Input.ReportId is int rid
            ? await db.PatientReports.SingleOrDefaultAsync(r => r.Id == rid && r.PatientAccess.PatientId == id && r.IsActive && (r.ExpiresAt == null || r.ExpiresAt > now))
            : null;
        if (report is null) ModelState.AddModelError("Input.ReportId", "Choisissez un compte rendu publié du patient.");
        if (!ReportShares.Durations.Contains(Input.Days)) ModelState.AddModelError("Input.Days", "Choisissez une durée : 1, 7 ou 30 jours.");
        var email = string.IsNullOrWhiteSpace(Input.Email) ? null : Input.Email.Trim();
        if (email is not null && (email.Length > 254 || !new EmailAddressAttribute().IsValid(email) || !email.Contains('.', StringComparison.Ordinal)))
            ModelState.AddModelError("Input.Email", "Adresse e-mail invalide.");
        var phone = string.IsNullOrWhiteSpace(Input.Phone) ? null : Phones.Normalize(Input.Phone);
        if (!string.IsNullOrWhiteSpace(Input.Phone) && (phone is null || !Phones.CanReceiveSms(phone)))
            ModelState.AddModelError("Input.Phone", "Numéro de téléphone mobile invalide.");
        if (email is null && string.IsNullOrWhiteSpace(Input.Phone))
            ModelState.AddModelError("Input.Email", "Indiquez l'e-mail ou le téléphone mobile du médecin.");
        if (!ModelState.IsValid) return Page();

        var recipient = string.Join(" / ", new[] { email, phone }.Where(x => x is not null));
        var linkChannel = email is not null ? (OutboxChannel.Email, email) : (OutboxChannel.Sms, phone!);
        var created = await shares.CreateAsync(report!, Input.Days, HttpContext.RequestAborted,
            User.FindFirst(System.Security.Claims.ClaimTypes.NameIdentifier)?.Value, User.Identity?.Name ?? "", recipient, c =>
            {
                Queue(OutboxKind.ShareLink, linkChannel, c.Share, report!, now);
                // Queued a second later: the link goes first, the code follows, on the other channel.
                if (email is not null && phone is not null) Queue(OutboxKind.ShareCode, (OutboxChannel.Sms, phone), c.Share, report!, now.AddSeconds(1));
                Audit.Staff(db, User, now, "share.create", "ReportShare", null,
                    $"patient {id}, rapport {report!.Id}, {Input.Days} j, destinataire {recipient}{(email is null || phone is null ? ", code dicté par téléphone" : "")}");
            });
        if (created is null)
        {
            ModelState.AddModelError("", ReportShares.LimitReached);
            return Page();
        }
        if (email is not null && phone is not null)
            return Done($"Partage créé : le lien et le code partent en deux messages ({recipient}).", null, new { id });
        // One contact only: the code never travels on the link's channel, so staff read it out on the phone. It exists in
        // clear only in this response (no redirect through TempData).
        Response.Headers.CacheControl = "no-store";
        DictateCode = created.Code;
        Active = await shares.ActiveForPatientAsync(id, HttpContext.RequestAborted);
        return Page();
    }

    public async Task<IActionResult> OnPostRevokeAsync(int id, int shareId)
    {
        var share = await db.ReportShares.SingleOrDefaultAsync(s => s.Id == shareId && s.PatientAccess.PatientId == id && s.RevokedAt == null);
        if (share is null) return NotFound();
        var now = time.GetUtcNow().UtcDateTime;
        share.RevokedAt = now;
        share.RevokedBy = User.Identity?.Name ?? "cabinet";
        Audit.Staff(db, User, now, "share.revoke", "ReportShare", share.Id, $"patient {id}, rapport {share.ReportId}");
        await db.SaveChangesAsync();
        return Done("Partage révoqué : le lien ne fonctionne plus.", null, new { id });
    }

    private void Queue(OutboxKind kind, (OutboxChannel Channel, string Recipient) to, ReportShare share, PatientReport report, DateTime at) =>
        db.OutboxMessages.Add(new OutboxMessage
        {
            Kind = kind,
            Channel = to.Channel,
            Patient = Patient,
            PatientId = Patient.Id,
            PatientAccessId = report.PatientAccessId,
            ReportId = report.Id,
            ReportShare = share,
            Recipient = to.Recipient,
            Status = OutboxStatus.Pending,
            CreatedAt = at,
            NextAttemptAt = at,
        });

    private async Task<bool> LoadAsync(int id)
    {
        var patient = await db.Patients.SingleOrDefaultAsync(p => p.Id == id);
        if (patient is null) return false;
        Patient = patient;
        var now = time.GetUtcNow().UtcDateTime;
        Reports = await db.PatientReports.AsNoTracking()
            .Where(r => r.PatientAccess.PatientId == id && r.IsActive && (r.ExpiresAt == null || r.ExpiresAt > now))
            .OrderByDescending(r => r.CreatedAt).Select(r => new ReportOption(r.Id, r.Title, r.CreatedAt)).ToListAsync();
        Active = await shares.ActiveForPatientAsync(id, HttpContext.RequestAborted);
        return true;
    }
}
