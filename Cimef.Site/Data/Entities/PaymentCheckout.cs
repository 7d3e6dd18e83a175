namespace Cimef.Site.Data.Entities;

/// <summary>
/// A hosted checkout session opened with a mobile-money provider (Wave) for an invoice's balance: the link the patient
/// pays through. The webhook that reports its outcome finds it by (provider, checkout id).
/// </summary>
public class PaymentCheckout
{
    public int Id { get; set; }
    public int InvoiceId { get; set; }
    public Invoice Invoice { get; set; } = null!;
    /// <summary>The provider's name as in the URLs ("wave").</summary>
    public string Provider { get; set; } = "";
    /// <summary>The provider's session id (Wave: "cos-…"); the recorded payment's reference.</summary>
    public string CheckoutId { get; set; } = "";
    /// <summary>In XOF, the balance when the session was opened.</summary>
    public int Amount { get; set; }
    public string Url { get; set; } = "";
    public CheckoutStatus Status { get; set; } = CheckoutStatus.Open;
    public DateTime CreatedAt { get; set; }
    public string CreatedBy { get; set; } = "";
    /// <summary>When the provider stops accepting payment on it (Wave's when_expires); null when not given.</summary>
    public DateTime? ExpiresAt { get; set; }
    /// <summary>When its outcome (paid, failed, refused) arrived.</summary>
    public DateTime? ClosedAt { get; set; }
    /// <summary>The last webhook event id applied to it (the provider's, for the logs).</summary>
    public string? LastEventId { get; set; }
}

/// <summary>Open: payable. Paid: the payment is recorded. Failed: the provider reported a failed attempt or expiry.
/// Refused: the provider reported a payment the portal did not record (wrong amount or currency, invoice cancelled or
/// already paid, another invoice's reference): an alert asks staff to reconcile or refund.
/// Closing: the invoice changed (desk payment, cancellation, new balance), so the portal closed the link; the provider
/// is still to be told to expire it (<see cref="Payments.CheckoutExpiry"/> retries until it is). Closed: the provider
/// expired it too (or it lapsed there by itself).</summary>
public enum CheckoutStatus { Open, Paid, Failed, Refused, Closing, Closed }
