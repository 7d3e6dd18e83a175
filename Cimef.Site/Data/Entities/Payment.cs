namespace Cimef.Site.Data.Entities;

public enum PaymentMethod { Cash, Wave, OrangeMoney, Card, Cheque, Transfer }

public class Payment
{
    public int Id { get; set; }
    public int InvoiceId { get; set; }
    public Invoice Invoice { get; set; } = null!;
    public int Amount { get; set; }
    public PaymentMethod Method { get; set; }
    public DateTime At { get; set; }
    public string ReceivedBy { get; set; } = "";
    /// <summary>The provider's reference for an online payment (Wave: the checkout session id); unique per method.</summary>
    public string? Reference { get; set; }
    /// <summary>A reversal keeps the row (the cash desk needs the history) and stops it counting.</summary>
    public DateTime? ReversedAt { get; set; }
    public string? ReversedBy { get; set; }
    public string? ReversalReason { get; set; }
}

public static class PaymentMethods
{
    public static string French(PaymentMethod m) => m switch
    {
        PaymentMethod.Cash => "Espèces",
        PaymentMethod.Wave => "Wave",
        PaymentMethod.OrangeMoney => "Orange Money",
        PaymentMethod.Card => "Carte bancaire",
        PaymentMethod.Cheque => "Chèque",
        PaymentMethod.Transfer => "Virement",
        _ => m.ToString(),
    };
}
