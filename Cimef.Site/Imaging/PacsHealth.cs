using Cimef.Site.Auditing;
using Cimef.Site.Data;
using Cimef.Site.Data.Entities;

namespace Cimef.Site.Imaging;

/// <summary>
/// Whether the PACS answers, as this node last saw it. The first failure after a success raises the alert
/// <see cref="AlertKind"/> (once: an open alert of the kind is not raised again, whichever node sees the next
/// failure); further failures while the PACS stays away write nothing, so a patient reloading the page costs no write.
/// </summary>
public sealed class PacsHealth(IServiceScopeFactory scopes, TimeProvider time, ILogger<PacsHealth> log)
{
    public const string AlertKind = AlertKinds.PacsUnreachable;
    public const string Subject = "PACS Orthanc";

    private int _down;

    public bool IsDown => Volatile.Read(ref _down) == 1;

    public void Succeeded() => Interlocked.Exchange(ref _down, 0);

    public async Task FailedAsync(string reason, CancellationToken ct)
    {
        if (Interlocked.Exchange(ref _down, 1) == 1) return;
        log.LogWarning("The PACS does not answer: {Reason}", reason);
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<CimefDb>();
            await using var tx = await Alerts.BeginAsync(db, ct);
            await Alerts.RaiseAsync(db, AlertLevel.Warning, AlertKind, Subject,
                "Le PACS (Orthanc) ne répond pas : les patients ne voient pas leurs images, leurs comptes rendus restent téléchargeables. " + reason,
                time.GetUtcNow().UtcDateTime, ct);
            await db.SaveChangesAsync(ct);
            if (tx is not null) await tx.CommitAsync(ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // The alert is a courtesy: the page still answers its 503; the next failure tries again.
            Interlocked.Exchange(ref _down, 0);
            log.LogError(e, "Could not record the PACS alert.");
        }
    }
}
