using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Cimef.Site.Notifications;
using Cimef.Site.Web;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;

namespace Cimef.Site.Pages.Patients;

/// <summary>
/// Delivery status of a patient's notifications (email/SMS outbox), with "Renvoyer" (re-queue, audited).
/// Returns a fragment for htmx so the patient details page can load it.
/// </summary>
[Authorize(Policy = Policies.FrontDesk)]
public class NotificationsModel(CimefDb db, TimeProvider time) : StaffPage
{
    public sealed record Row(int Id, OutboxKind Kind, OutboxChannel Channel, string Recipient, OutboxStatus Status, int Attempts,
        DateTime CreatedAt, DateTime NextAttemptAt, DateTime? SentAt, string? LastError);

    public int PatientId { get; private set; }
    public string PatientName { get; private set; } = "";
    public IReadOnlyList<Row> Rows { get; private set; } = [];
    public string? Message { get; private set; }

    public const string PartialName = "Notifications.Rows";

    public static string KindFr(OutboxKind k) => k switch
    {
        OutboxKind.Credentials => "Identifiants",
        OutboxKind.PaymentLink => "Lien de paiement Wave",
        OutboxKind.ShareLink => "Lien de partage (médecin)",
        OutboxKind.ShareCode => "Code de partage (médecin)",
        _ => "Résultats disponibles",
    };
    public static string ChannelFr(OutboxChannel c) => c == OutboxChannel.Email ? "E-mail" : "SMS";
    public static string StatusFr(OutboxStatus s) => s switch
    {
        OutboxStatus.Pending => "En attente",
        OutboxStatus.Sent => "Envoyé",
        OutboxStatus.Failed => "Échec",
        _ => s.ToString(),
    };

    public async Task<IActionResult> OnGetAsync(int id)
    {
        if (!await LoadAsync(id)) return NotFound();
        return this.PageOrPartial(PartialName, this);
    }

    public async Task<IActionResult> OnPostResendAsync(int id, int messageId)
    {
        var original = await db.OutboxMessages.Include(m => m.Patient).SingleOrDefaultAsync(m => m.Id == messageId && m.PatientId == id);
        if (original is null) return NotFound();
        var now = time.GetUtcNow().UtcDateTime;
        var copy = Outbox.Requeue(db, original, now);
        Audit.Staff(db, User, now, "notification.resend", "OutboxMessage", original.Id, $"patient {id}, {ChannelFr(original.Channel)}, {KindFr(original.Kind)}");
        await db.SaveChangesAsync();
        var message = $"{ChannelFr(copy.Channel)} remis en file d'envoi.";
        return await DoneAsync(message, async () =>
        {
            await LoadAsync(id);
            Message = message;
            return Partial(PartialName, this);
        }, new { id });
    }

    private async Task<bool> LoadAsync(int id)
    {
        var name = await db.Patients.Where(p => p.Id == id).Select(p => p.FullName).SingleOrDefaultAsync();
        if (name is null) return false;
        PatientId = id;
        PatientName = name;
        Rows = await db.OutboxMessages.Where(m => m.PatientId == id).OrderByDescending(m => m.Id).Take(100)
            .Select(m => new Row(m.Id, m.Kind, m.Channel, m.Recipient, m.Status, m.Attempts, m.CreatedAt, m.NextAttemptAt, m.SentAt, m.LastError))
            .ToListAsync();
        return true;
    }
}
