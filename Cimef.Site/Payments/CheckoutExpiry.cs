using Cimef.Site.Data;
using Cimef.Site.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Cimef.Site.Payments;

/// <summary>
/// A payment link dies with the invoice state it was opened for. A desk payment, a cancellation or any change of balance
/// closes every open checkout of the invoice in the same transaction (<see cref="CloseOpenAsync"/>): from the commit on,
/// the portal's link answers « Ce lien de paiement n'est plus valable ». The provider is told afterwards, outside the
/// transaction: <see cref="RunAsync"/> asks it to expire each Closing checkout and marks it Closed once it did, so a
/// provider that is down only delays the expiry to a later pass (<see cref="CheckoutExpiryWorker"/>) — it is never lost.
/// A checkout past its provider-side expiry needs no call. Expiring twice (two nodes in one pass) is harmless.
/// </summary>
public sealed class CheckoutExpiry(CimefDb db, IEnumerable<IPaymentProvider> providers, TimeProvider time, ILogger<CheckoutExpiry> log)
{
    public const int BatchSize = 50;

    /// <summary>Marks the invoice's open checkouts Closing in the caller's unit of work (the caller saves).</summary>
    public static async Task CloseOpenAsync(CimefDb db, int invoiceId, DateTime now, CancellationToken ct)
    {
        // Tracked rows keep their in-memory status: a checkout this unit of work already marked (paid) is left as it is.
        foreach (var checkout in await db.PaymentCheckouts.Where(c => c.InvoiceId == invoiceId && c.Status == CheckoutStatus.Open).ToListAsync(ct))
        {
            if (checkout.Status != CheckoutStatus.Open) continue;
            checkout.Status = CheckoutStatus.Closing;
            checkout.ClosedAt = now;
        }
    }

    /// <summary>Tells the providers to expire the checkouts closed here; returns how many are now Closed.</summary>
    public async Task<int> RunAsync(CancellationToken ct = default)
    {
        var pending = await db.PaymentCheckouts.AsNoTracking().Where(c => c.Status == CheckoutStatus.Closing)
            .OrderBy(c => c.ClosedAt).ThenBy(c => c.Id).Take(BatchSize).ToListAsync(ct);
        var done = 0;
        foreach (var c in pending)
        {
            var now = time.GetUtcNow().UtcDateTime;
            if (c.ExpiresAt is not { } expires || expires > now)
            {
                var provider = providers.FirstOrDefault(p => p.IsConfigured && p.Name == c.Provider);
                if (provider is null) continue;
                try
                {
                    await provider.ExpireCheckoutAsync(c.CheckoutId, ct);
                }
                catch (PaymentProviderException e)
                {
                    log.LogWarning("Checkout {Checkout} ({Provider}) still to expire: {Error}", c.CheckoutId, c.Provider, e.Message);
                    continue;
                }
            }
            // Only while still Closing: a webhook that arrived meanwhile (paid, refused) keeps its outcome.
            done += await db.PaymentCheckouts.Where(x => x.Id == c.Id && x.Status == CheckoutStatus.Closing)
                .ExecuteUpdateAsync(u => u.SetProperty(x => x.Status, CheckoutStatus.Closed), ct);
        }
        return done;
    }
}

/// <summary>Runs <see cref="CheckoutExpiry"/> with the outbox's schedule (Notifications:WorkerEnabled, PollSeconds).</summary>
public sealed class CheckoutExpiryWorker(IServiceScopeFactory scopes, IOptions<NotificationsOptions> options, TimeProvider time, ILogger<CheckoutExpiryWorker> log)
    : Web.PollingWorker(scopes, options, time, log)
{
    protected override string PassName => "Checkout expiry pass";

    protected override Task PassAsync(IServiceProvider services, CancellationToken ct) =>
        services.GetRequiredService<CheckoutExpiry>().RunAsync(ct);
}
