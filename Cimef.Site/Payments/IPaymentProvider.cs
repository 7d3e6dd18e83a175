using Cimef.Site.Data.Entities;

namespace Cimef.Site.Payments;

/// <summary>
/// A mobile-money provider with hosted checkout sessions and signed webhooks (Wave today; Orange Money would be a
/// second implementation, registered beside it, with its own webhook URL /api/payments/{name}/webhook/).
/// </summary>
public interface IPaymentProvider
{
    /// <summary>The name in URLs and API bodies ("wave").</summary>
    string Name { get; }

    /// <summary>The method the recorded payment carries.</summary>
    PaymentMethod Method { get; }

    /// <summary>False until every setting is given: then nothing of this provider is shown anywhere.</summary>
    bool IsConfigured { get; }

    /// <summary>Opens a checkout session; throws <see cref="PaymentProviderException"/> when the provider cannot be reached or refuses.</summary>
    Task<CheckoutSession> CreateCheckoutAsync(CheckoutRequest request, CancellationToken ct);

    /// <summary>
    /// Expires a checkout session so nobody can pay it any more; a session the provider no longer has open (paid, expired,
    /// unknown) counts as done. Throws <see cref="PaymentProviderException"/> when the provider cannot be reached or refuses.
    /// </summary>
    Task ExpireCheckoutAsync(string checkoutId, CancellationToken ct);

    /// <summary>The event in a webhook delivery, or null when its signature or timestamp does not check out.</summary>
    WebhookEvent? ReadWebhook(IHeaderDictionary headers, byte[] body, DateTimeOffset now);
}

/// <summary>What the portal asks for: an amount in XOF for an invoice, and where the patient lands afterwards.</summary>
public sealed record CheckoutRequest(int Amount, string ClientReference, string SuccessUrl, string ErrorUrl, string IdempotencyKey);

public sealed record CheckoutSession(string Id, string Url, DateTime? ExpiresAt);

public enum WebhookOutcome { Succeeded, Failed, Other }

/// <summary>
/// A verified webhook event, reduced to what the portal acts on. Amount is null when it is not a whole number;
/// ClientReference is the invoice number the session was opened for.
/// </summary>
public sealed record WebhookEvent(string EventId, string Type, WebhookOutcome Outcome, string? CheckoutId, int? Amount, string? Currency, string? TransactionId,
    string? ClientReference = null);

/// <summary>The provider could not be reached, timed out or refused: <see cref="Exception.Message"/> is a French sentence for staff.</summary>
public sealed class PaymentProviderException(string message, Exception? inner = null) : Exception(message, inner);
